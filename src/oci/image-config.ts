/**
 * The image configuration (OCI image-spec config.md; Docker's image JSON is the same shape):
 * the fields c8y-ms reads and writes. Fields it does not know are kept as they are.
 */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  [key: string]: unknown;
}

export interface ImageConfig {
  architecture: string;
  os: string;
  config?: ContainerConfig;
  rootfs: { type: "layers"; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
  created?: string;
  [key: string]: unknown;
}

/** Time 0: the same sources give the same config, so the same image id (as ko and Jib do). */
export const FIXED_TIME = "1970-01-01T00:00:00Z";

export function parseImageConfig(bytes: Buffer, label: string): ImageConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new Error(`${label} is not JSON`);
  }
  const config = parsed as Partial<ImageConfig> | null;
  if (!config || typeof config !== "object" || !Array.isArray(config.rootfs?.diff_ids) || typeof config.architecture !== "string" || typeof config.os !== "string") {
    throw new Error(`${label} is not an image config (architecture, os and rootfs.diff_ids)`);
  }
  return config as ImageConfig;
}

/**
 * The config of the base image with the stage applied and the application layer on top:
 * history keeps the base's entries, then one per instruction (empty_layer), then the layer.
 */
export function imageConfigWith(base: ImageConfig, container: ContainerConfig, steps: string[], appLayer: { diffId: string; createdBy: string } | undefined): ImageConfig {
  const history = [
    ...(base.history ?? []),
    ...steps.map((step) => ({ created: FIXED_TIME, created_by: step, comment: "c8y-ms", empty_layer: true })),
    ...(appLayer ? [{ created: FIXED_TIME, created_by: appLayer.createdBy, comment: "c8y-ms" }] : []),
  ];
  return {
    ...base,
    created: FIXED_TIME,
    config: container,
    rootfs: { type: "layers", diff_ids: [...base.rootfs.diff_ids, ...(appLayer ? [appLayer.diffId] : [])] },
    history,
  };
}
