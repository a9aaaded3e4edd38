import * as z from "zod";

/**
 * The options of each command as commander hands them over (`command.opts()`), checked and
 * typed at the boundary: cli.ts declares the flags and turns text into values (with messages
 * for users); these schemas are what the commands and the pipeline may then rely on. They are
 * strict, so a flag declared in cli.ts but missing here, or the other way round, fails the
 * first run of that command (and options.test.ts) rather than arriving untyped.
 */

const engine = z.enum(["docker", "podman"]);
/** What builds the image: an engine, or c8y-ms itself. */
const builder = z.enum(["docker", "podman", "none"]);

const connection = {
  url: z.string().optional(),
  tenant: z.string().optional(),
  user: z.string().optional(),
  passwordStdin: z.boolean().optional(),
};

const build = {
  engine: builder.optional(),
  buildArg: z.array(z.string()),
  /** false with --no-cache. */
  cache: z.boolean(),
  tag: z.string().optional(),
};

const pack = {
  ...build,
  output: z.string().optional(),
  image: z.string().optional(),
  imageTar: z.string().optional(),
  compressionLevel: z.number().int().min(0).max(9),
  sizeLimit: z.number().int().positive().optional(),
  force: z.boolean().optional(),
};

export const OPTION_SCHEMAS = {
  init: z.strictObject({
    template: z.string().optional(),
    listTemplates: z.boolean().optional(),
    name: z.string().optional(),
    isolation: z.enum(["MULTI_TENANT", "PER_TENANT"]).optional(),
    requiredRoles: z.string().optional(),
    provider: z.string().optional(),
    force: z.boolean().optional(),
    /** false with --no-install. */
    install: z.boolean(),
    /** false with --no-git. */
    git: z.boolean(),
  }),
  validate: z.strictObject({ strict: z.boolean().default(false) }),
  build: z.strictObject(build),
  pack: z.strictObject(pack),
  deploy: z.strictObject({
    ...pack,
    ...connection,
    /** false with --no-subscribe. */
    subscribe: z.boolean(),
    subscribeTenant: z.array(z.string()),
    dryRun: z.boolean().optional(),
    wait: z.boolean().optional(),
    timeout: z.number().int().positive(),
  }),
  subscribe: z.strictObject(connection),
  unsubscribe: z.strictObject(connection),
  delete: z.strictObject(connection),
  status: z.strictObject(connection),
  sandbox: z.strictObject({
    port: z.number().int().min(0).max(65535),
    dataDir: z.string(),
    /** false with --no-containers. */
    containers: z.boolean(),
    engine: builder.optional(),
    network: z.enum(["auto", "isolated", "host", "publish"]),
    faults: z.boolean().optional(),
    uploadLimit: z.number().int().positive().optional(),
  }),
  doctor: z.strictObject({ ...connection, engine: builder.optional() }),
} as const;

export type CommandName = keyof typeof OPTION_SCHEMAS;
export type CommandOptions = { [K in CommandName]: z.infer<(typeof OPTION_SCHEMAS)[K]> };

/**
 * The options of `command`, typed. Commander has already refused what a user can get wrong,
 * so a mismatch here is a bug in c8y-ms: it is reported as one (with where to report it).
 */
export function parseOptions<K extends CommandName>(command: K, raw: Record<string, unknown>): CommandOptions[K] {
  const parsed = OPTION_SCHEMAS[command].safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(options)"}: ${issue.message}`).join("; ");
    throw new Error(`The options of \`${command}\` do not match their declaration in cli.ts: ${problems}`);
  }
  return parsed.data as CommandOptions[K];
}
