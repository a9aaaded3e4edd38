const MASK = "***";

/**
 * Everything c8y-ms prints passes through one Redactor, so a password, token or
 * bootstrap credential cannot reach the terminal or a CI log, even with --verbose.
 */
export class Redactor {
  readonly #secrets = new Set<string>();

  /** Registers a secret; its Basic-auth and URL-encoded forms are masked as well. */
  add(secret: string | undefined): void {
    if (!secret || secret.length < 3) return;
    this.#secrets.add(secret);
    this.#secrets.add(encodeURIComponent(secret));
  }

  /** Registers the credentials of a Basic auth header, including its base64 form. */
  addBasicAuth(principal: string, password: string): void {
    this.add(password);
    this.add(Buffer.from(`${principal}:${password}`).toString("base64"));
  }

  redact(text: string): string {
    let result = text;
    // Longest first, so a secret that contains another is masked whole.
    const secrets = [...this.#secrets].sort((a, b) => b.length - a.length);
    for (const secret of secrets) result = result.split(secret).join(MASK);
    return result;
  }
}
