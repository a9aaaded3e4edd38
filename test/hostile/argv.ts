import fc from "fast-check";

/**
 * Command lines as a careless or hostile user types them: real and made-up commands, every
 * flag with and without its value, `--flag=value`, clusters of short flags, values that are
 * empty, huge, negative, fractional, odd unicode, paths that climb out, and secrets typed
 * as flags (which must never be echoed).
 */
export const COMMANDS = ["init", "validate", "build", "pack", "deploy", "subscribe", "unsubscribe", "delete", "status", "sandbox", "doctor"] as const;

const FLAGS = [
  "--json", "--verbose", "-q", "--quiet", "--no-color", "-y", "--yes", "-V", "--version", "-h", "--help",
  "-t", "--template", "--list-templates", "-n", "--name", "--isolation", "--required-roles", "--provider", "--force", "--no-install", "--no-git",
  "--strict", "--engine", "--build-arg", "--no-cache", "--tag", "-o", "--output", "--image", "--image-tar", "--compression-level", "--size-limit",
  "--url", "--tenant", "--user", "--password-stdin", "--no-subscribe", "--subscribe-tenant", "--dry-run", "--wait", "--timeout",
  "-p", "--port", "--data-dir", "--no-containers", "--network", "--faults", "--upload-limit",
  "--bogus", "--Json", "---json", "--no-json", "-", "--", "-qyV", "-xyz",
];

/** What a value looks like when someone is trying things. */
export const SECRET = "s3cr3t-Pa55w0rd";
const value = fc.oneof(
  fc.constantFrom("", " ", "0", "-1", "1.5", "1e400", "NaN", "Infinity", "9".repeat(40), "65536", "docker", "podman", "host", "MULTI_TENANT", "KEY=value", "=x", "x:1"),
  fc.constantFrom("..", "../../etc/passwd", "/", "/dev/zero", "/nonexistent/x", "C:\\x", "a\u0000b", "\uFEFF", "\uD800", "\u{1F600}", "-x", "--json"),
  fc.string({ unit: "binary", maxLength: 12 }).filter((s) => !s.includes("\u0000")),
);
const secretFlag = fc.constantFrom(`--password=${SECRET}`, `--token=${SECRET}`, `--pass=${SECRET}`, `--secret=${SECRET}`, `--client-secret=${SECRET}`);

const token = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...FLAGS) },
  { weight: 2, arbitrary: value },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...FLAGS), value).map(([flag, v]) => `${flag}=${v}`) },
  { weight: 1, arbitrary: secretFlag },
);

export const argv: fc.Arbitrary<string[]> = fc
  .tuple(fc.option(fc.oneof(fc.constantFrom(...COMMANDS), fc.constantFrom("Validate", "help", "deploy-", "x")), { nil: undefined, freq: 8 }), fc.array(token, { maxLength: 8 }))
  .map(([command, rest]) => (command === undefined ? rest : [command, ...rest]));

/**
 * Command lines that are safe to run for real in an empty directory with no platform: no
 * server that keeps running (sandbox), no scaffold that installs packages (init), and no NUL
 * (a process cannot be given one: arguments are C strings).
 */
export const spawnableArgv: fc.Arbitrary<string[]> = argv.filter((args) => !args.includes("sandbox") && !args.includes("init") && !args.some((a) => a.includes("\0")));

/** The in-process property runs this many; the CLI test spawns a sample of ARGV_SPAWNED. */
export const ARGV_PROPERTY_RUNS = 4600;
export const ARGV_SPAWNED = 30;
