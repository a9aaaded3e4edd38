import * as z from "zod";
import {
  CONTEXT_PATH_MAX_LENGTH,
  CONTEXT_PATH_PATTERN,
  CPU_PATTERN,
  MEMORY_PATTERN,
  NAME_MAX_LENGTH,
  NAME_PATTERN,
  NO_WHITESPACE_PATTERN,
  PORT_MAX,
  PORT_MIN,
  REPLICAS_MAX,
  REPLICAS_MIN,
  ROLE_NAME_PATTERN,
  SETTINGS_CATEGORY_PATTERN,
  VERSION_PATTERN,
} from "./formats.js";

/**
 * The model of cumulocity.json (platform.md §1): one source for the `Manifest` type, the
 * published JSON Schema (schemas/cumulocity.schema.json) and the structural checks — types,
 * required fields, enums, nesting and which fields exist. Value rules (formats, ranges,
 * cross-field checks) live in rules/ and reuse the patterns of formats.ts, which this model
 * also hands to editors through `.meta()`.
 *
 * Objects keep unknown keys (the platform tolerates them, and `pack` must not drop them);
 * `closed` objects are those whose unknown keys we report as warnings and editors flag.
 */
const closed = <Shape extends z.ZodRawShape>(shape: Shape, meta: { description: string; [key: string]: unknown }) =>
  z.looseObject(shape).meta({ ...meta, additionalProperties: false });

/** Objects whose members belong to someone else (extensions, value schemas). */
const open = <Shape extends z.ZodRawShape>(shape: Shape, meta: { description: string; [key: string]: unknown }) =>
  z.looseObject(shape).meta({ ...meta, additionalProperties: true });

/** True for objects whose unknown members are reported (see `closed`). */
export function isClosedObject(schema: z.ZodType): boolean {
  return z.globalRegistry.get(schema)?.additionalProperties === false;
}

/** The platform's defaults (platform.md §1.1–1.5): documented in the schema, never written by us. */
export const MANIFEST_DEFAULTS = {
  billingMode: "RESOURCES",
  isolation: "MULTI_TENANT",
  scale: "NONE",
  replicas: 1,
  resources: { cpu: "0.5", memory: "512M" },
  requestedResources: { cpu: "250m", memory: "256M" },
  probe: { initialDelaySeconds: 0, periodSeconds: 10, successThreshold: 1, timeoutSeconds: 1, failureThreshold: 3, port: 80, scheme: "HTTP" },
} as const;

const d = MANIFEST_DEFAULTS;

const cpu = (role: string) =>
  z.string().meta({
    description: `${role} CPU: cores ("1", "0.5") or millicores ("500m").`,
    pattern: CPU_PATTERN.source,
    patternErrorMessage: 'Write cores ("1", "0.5") or millicores ("500m").',
    examples: ["500m", "1"],
  });

const memory = (role: string) =>
  z.string().meta({
    description: `${role} memory: an integer with an optional unit — E, P, T, G, M, K (powers of 10) or Ei, Pi, Ti, Gi, Mi, Ki (powers of 2); no unit means bytes. Decimals ("1.5G") and lowercase units ("512m") are rejected.`,
    pattern: MEMORY_PATTERN.source,
    patternErrorMessage: 'Write an integer with an uppercase unit, e.g. "512M" or "1Gi" (no decimals).',
    examples: ["512M", "1Gi"],
  });

const resources = (role: string, description: string, defaults: { cpu: string; memory: string }, extra: Record<string, unknown> = {}) =>
  closed({ cpu: cpu(role).optional(), memory: memory(role).optional() }, { description, default: defaults, ...extra });

const noWhitespace = (description: string) =>
  z.string().meta({ description, pattern: NO_WHITESPACE_PATTERN.source, patternErrorMessage: "The platform rejects whitespace and line feeds in probes." });

const port = (description: string) => z.number().int().meta({ description, minimum: PORT_MIN, maximum: PORT_MAX, default: d.probe.port });

const seconds = (description: string, minimum: number, fallback: number) =>
  z.number().int().meta({ description, minimum, default: fallback });

const probe = (which: "liveness" | "readiness") =>
  closed(
    {
      exec: closed(
        {
          command: z
            .array(noWhitespace("One argument of the command; the platform rejects whitespace, so split arguments into items."))
            .meta({ description: "The command and its arguments, run inside the container; exit code 0 means healthy.", minItems: 1 }),
        },
        { description: "Run a command in the container. Give exactly one of exec, tcpSocket and httpGet." },
      ).optional(),
      tcpSocket: closed(
        {
          host: noWhitespace("Host to connect to; defaults to the container's address.").optional(),
          port: port("TCP port to open.").optional(),
        },
        { description: "Open a TCP connection. Give exactly one of exec, tcpSocket and httpGet." },
      ).optional(),
      httpGet: closed(
        {
          host: noWhitespace("Host name to connect to; defaults to the container's address.").optional(),
          path: noWhitespace('Path of the health endpoint, e.g. "/health". A 2xx or 3xx answer means healthy.').meta({ minLength: 1, examples: ["/health"] }),
          port: port("Port of the health endpoint; the service listens on 80.").optional(),
          scheme: z.enum(["HTTP", "HTTPS"]).meta({ description: "Protocol of the request.", default: d.probe.scheme }).optional(),
          headers: z
            .array(
              closed(
                { name: noWhitespace("Header name."), value: noWhitespace("Header value (no whitespace allowed in probes).") },
                { description: "An HTTP header sent with the probe request." },
              ),
            )
            .meta({ description: "Extra request headers." })
            .optional(),
        },
        { description: "Send an HTTP GET request. Give exactly one of exec, tcpSocket and httpGet." },
      ).optional(),
      initialDelaySeconds: seconds("Seconds after the container starts before the first probe.", 0, d.probe.initialDelaySeconds).optional(),
      periodSeconds: seconds("Seconds between probes.", 1, d.probe.periodSeconds).optional(),
      successThreshold: seconds(
        which === "liveness" ? "Successes in a row that count as healthy again; must be 1 for a liveness probe." : "Successes in a row that count as ready.",
        1,
        d.probe.successThreshold,
      ).optional(),
      timeoutSeconds: seconds("Seconds after which a probe counts as failed.", 1, d.probe.timeoutSeconds).optional(),
      failureThreshold: seconds("Failures in a row before the container is restarted (liveness) or taken out of service (readiness).", 1, d.probe.failureThreshold).optional(),
    },
    {
      description:
        which === "liveness"
          ? "Checks that the service is alive; the platform restarts it when the check keeps failing. Without it the service always counts as healthy."
          : "Checks that the service can take requests; until it passes no traffic is routed to it. Without it the service is ready at once.",
      oneOf: [{ required: ["exec"] }, { required: ["tcpSocket"] }, { required: ["httpGet"] }],
    },
  );

const roles = (description: string) =>
  z
    .array(
      z.string().meta({
        description: "A permission string such as ROLE_INVENTORY_READ.",
        pattern: ROLE_NAME_PATTERN.source,
        patternErrorMessage: "Permissions look like ROLE_<NAME>, in capitals.",
      }),
    )
    .meta({ description, uniqueItems: true });

const enumField = <const T extends readonly [string, ...string[]]>(values: T, description: string, fallback: T[number]) =>
  z.enum(values).meta({ description, default: fallback });

export const manifestSchema = closed(
  {
    $schema: z.string().meta({ description: "The JSON Schema editors use for this file; c8y-ms leaves it out of the packed manifest." }).optional(),
    apiVersion: z.string().meta({
      description: 'Manifest API version: "2" (or "v2"). Version 1 was removed from the platform; v2 runs the container with only the NET_BIND_SERVICE capability.',
      // Editors offer (and accept) only the live versions; the rules explain "1" and odd values.
      enum: ["2", "v2"],
      examples: ["2"],
    }),
    name: z
      .string()
      .meta({
        description: `Microservice name: lowercase letters, digits and dashes, at most ${NAME_MAX_LENGTH} characters. Without it the platform derives the name from the zip file name.`,
        pattern: NAME_PATTERN.source,
        patternErrorMessage: "Lowercase letters, digits and dashes only.",
        maxLength: NAME_MAX_LENGTH,
        examples: ["my-service"],
      })
      .optional(),
    version: z.string().meta({
      description: 'Semantic version without build metadata ("+"), e.g. "1.0.0". A "-SNAPSHOT" suffix marks a development build that may be uploaded again with different content.',
      pattern: VERSION_PATTERN.source,
      patternErrorMessage: 'A semantic version without "+", e.g. "1.0.0" or "1.0.0-SNAPSHOT".',
      examples: ["1.0.0", "1.0.0-SNAPSHOT"],
    }),
    provider: closed(
      {
        name: z.string().meta({ description: "Company or person providing the service.", minLength: 1, examples: ["Example Ltd."] }),
        domain: z.string().meta({ description: "Provider's website." }).optional(),
        support: z.string().meta({ description: "Support e-mail address." }).optional(),
      },
      { description: "Who provides the microservice." },
    ),
    contextPath: z
      .string()
      .meta({
        description: "Path under /service/ where the platform routes requests to the service; defaults to the name.",
        pattern: CONTEXT_PATH_PATTERN.source,
        patternErrorMessage: "Letters, digits and - . _ ~ only.",
        maxLength: CONTEXT_PATH_MAX_LENGTH,
      })
      .optional(),
    billingMode: enumField(["RESOURCES", "SUBSCRIPTION"], "How the service is billed: by the resources it uses, or by subscription.", d.billingMode).optional(),
    isolation: enumField(
      ["MULTI_TENANT", "PER_TENANT"],
      "MULTI_TENANT runs one instance for every subscribed tenant; PER_TENANT runs an instance per subscribed tenant.",
      d.isolation,
    ).optional(),
    scale: enumField(["AUTO", "NONE"], "AUTO adds instances under high CPU load (replicas is then the minimum); NONE keeps the replica count.", d.scale).optional(),
    replicas: z
      .number()
      .int()
      .meta({
        description: `Number of instances, ${REPLICAS_MIN} to ${REPLICAS_MAX}; production services need at least 2.`,
        minimum: REPLICAS_MIN,
        maximum: REPLICAS_MAX,
        default: d.replicas,
      })
      .optional(),
    resources: resources("Limit of", "Resource limits of each instance (the tenant administrator may change the defaults).", d.resources).optional(),
    requestedResources: resources(
      "Requested",
      "Resources reserved for each instance; at most the limits, and usually capped at 250m CPU and 256M memory.",
      d.requestedResources,
    ).optional(),
    requestResources: resources("Requested", 'The OpenAPI spelling of "requestedResources"; write "requestedResources".', d.requestedResources, {
      deprecated: true,
    }).optional(),
    settingsCategory: z
      .string()
      .meta({
        description: "Tenant-option category of the settings; defaults to the context path, then the name. Unique per tenant and fixed after the first upload.",
        pattern: SETTINGS_CATEGORY_PATTERN.source,
        patternErrorMessage: "Letters, digits and dots only.",
      })
      .optional(),
    settings: z
      .array(
        closed(
          {
            key: z.string().meta({ description: 'Option key; keys starting with "credentials." are stored encrypted.', minLength: 1 }),
            defaultValue: z.string().meta({ description: "Default value, always a string (write true as \"true\").", minLength: 1 }),
            editable: z.boolean().meta({ description: "Whether a subscribing tenant may change the value.", default: false }).optional(),
            overwriteOnUpdate: z.boolean().meta({ description: "Whether an update of the service resets an edited value.", default: true }).optional(),
            inheritFromOwner: z.boolean().meta({ description: "Whether subscribers inherit the owner's value.", default: true }).optional(),
            valueSchema: open({}, { description: 'JSON Schema of the value, e.g. {"type": "boolean"} (undocumented, accepted by the platform).' }).optional(),
          },
          { description: "A setting, stored as a tenant option." },
        ),
      )
      .meta({ description: "Settings the service reads from GET /application/currentApplication/settings.", default: [] })
      .optional(),
    requiredRoles: roles("Permissions granted to the service user in every subscribed tenant.").optional(),
    roles: roles("Custom roles the service defines; shown in the UI when named ROLE_<NAME>_READ, _ADMIN or _CREATE.").optional(),
    livenessProbe: probe("liveness").optional(),
    readinessProbe: probe("readiness").optional(),
    extensions: z
      .array(open({ type: z.string().meta({ description: "Extension type." }) }, { description: "A platform extension." }))
      .meta({ description: "Platform extensions the service provides.", default: [] })
      .optional(),
    // Used by platform components and build tools, not documented (platform.md §1.1): allowed without a warning.
    expose: z.string().meta({ description: "Internal to the platform; do not set." }).optional(),
    price: z.string().meta({ description: "Internal to the platform; do not set." }).optional(),
    buildSpec: open(
      { targetBuildArchitectures: z.array(z.string()).meta({ description: 'Architectures to build, e.g. "linux/amd64".' }).optional() },
      { description: "Build settings read by the Cumulocity Maven plugin; the platform ignores them." },
    ).optional(),
    dockerBuildInfo: open(
      {},
      { description: "Build facts (imageArch, buildDate, builderInfo, hostPlatform, hostOS, hostOSVersion) the Maven plugin writes into the packed manifest." },
    ).optional(),
    webpaas: z.unknown().meta({ description: "Web application field; no effect on microservices." }).optional(),
    contentSecurityPolicy: z.unknown().meta({ description: "Web application field; no effect on microservices." }).optional(),
    noAppSwitcher: z.unknown().meta({ description: "Web application field; no effect on microservices." }).optional(),
    tabsHorizontal: z.unknown().meta({ description: "Web application field; no effect on microservices." }).optional(),
    imports: z.unknown().meta({ description: "Web application field; no effect on microservices." }).optional(),
  },
  {
    title: "Cumulocity IoT microservice manifest (cumulocity.json)",
    description: "The manifest of a Cumulocity IoT microservice, packed as cumulocity.json beside image.tar in the upload zip.",
  },
);

export type Manifest = z.output<typeof manifestSchema>;
export type Probe = NonNullable<Manifest["livenessProbe"]>;
