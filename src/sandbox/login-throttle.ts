import { unauthenticated } from "./http.js";

/**
 * A back-off per login against guessing passwords and TOTP codes. The platform's own rule is
 * not published (c8y-docs authentication/ and concepts/security say nothing; no recording
 * shows a lock), so the sandbox chooses one that stops guessing without locking anyone out
 * for long: after FREE_FAILURES failures in a row a login is locked, first for a second, and
 * twice as long after each further failure, up to five minutes. While locked, even the right
 * password is refused, or a guesser could tell it apart. A success ends the lock.
 */
const FREE_FAILURES = 5;
const FIRST_LOCK_MS = 1000;
const LONGEST_LOCK_MS = 5 * 60_000;
/** Logins remembered at once; the oldest is forgotten first, so made-up names cannot fill memory. */
const REMEMBERED_LOGINS = 10_000;

interface Failures {
  count: number;
  lockedUntil: number;
}

export class LoginThrottle {
  readonly #failures = new Map<string, Failures>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * @throws {ApiError} 401 while `login` is locked, saying for how long
   */
  check(login: string): void {
    const failures = this.#failures.get(keyOf(login));
    const wait = failures ? failures.lockedUntil - this.#now() : 0;
    if (wait > 0) throw unauthenticated(`Too many failed logins for ${login}; try again in ${Math.ceil(wait / 1000)} s.`);
  }

  failed(login: string): void {
    const key = keyOf(login);
    const failures = this.#failures.get(key) ?? { count: 0, lockedUntil: 0 };
    failures.count++;
    if (failures.count >= FREE_FAILURES) {
      const lock = Math.min(FIRST_LOCK_MS * 2 ** (failures.count - FREE_FAILURES), LONGEST_LOCK_MS);
      failures.lockedUntil = this.#now() + lock;
    }
    // Re-inserted last: the map's order is the order of last failure.
    this.#failures.delete(key);
    this.#failures.set(key, failures);
    if (this.#failures.size > REMEMBERED_LOGINS) this.#failures.delete(this.#failures.keys().next().value as string);
  }

  succeeded(login: string): void {
    this.#failures.delete(keyOf(login));
  }
}

/**
 * The user name, without a tenant and however cased: `t1/admin`, `T1/Admin` and a bare `admin`
 * (which may mean any tenant's admin) count against one lock, so changing the spelling gains a
 * guesser nothing. The price: guessing one tenant's `admin` also slows the others' down.
 */
function keyOf(login: string): string {
  return login.slice(login.indexOf("/") + 1).toLowerCase();
}
