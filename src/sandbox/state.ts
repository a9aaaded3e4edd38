import { randomBytes, randomInt } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic.js";
import { CliError } from "../errors.js";

/** The fixed people of a sandbox, as listed in its ready document. */
export type PersonRole = "admin" | "read-only" | "tfa";

export interface TenantRecord {
  id: string;
  /** null for the owner (the sandbox's top tenant). */
  parent: string | null;
}

export interface UserRecord {
  tenant: string;
  name: string;
  password: string;
  roles: string[];
  /** People log in; bootstrap and service users are created by the platform for an application. */
  kind: "person" | "bootstrap" | "service";
  person?: PersonRole;
  /** The application a bootstrap or service user belongs to. */
  application?: string;
  /** Base32 TOTP secret of a user who must pass a second factor. */
  totpSecret?: string;
}

export interface ApplicationRecord {
  id: string;
  name: string;
  key: string;
  type: string;
  availability: string;
  contextPath?: string;
  owner: string;
  requiredRoles: string[];
  roles: string[];
  description?: string;
  /** The manifest of the active version (as uploaded), or what was given at creation. */
  manifest?: Record<string, unknown>;
  activeVersionId?: string;
  /** The managed object that carries the microservice's status (platform.md §3.3 #17). */
  statusObjectId?: string;
  created: string;
  lastUpdated: string;
}

export interface VersionRecord {
  id: string;
  application: string;
  version: string;
  /** Image config digest from image.tar: identical images have the same one. */
  imageId: string;
  /** The zip as uploaded, relative to the data directory. */
  file: string;
  bytes: number;
  created: string;
}

export interface SubscriptionRecord {
  tenant: string;
  application: string;
  created: string;
}

export interface SandboxState {
  format: 1;
  /** Signs bearer tokens, so tokens survive a restart of the same data directory. */
  tokenSecret: string;
  nextId: number;
  tenants: TenantRecord[];
  users: UserRecord[];
  applications: ApplicationRecord[];
  versions: VersionRecord[];
  subscriptions: SubscriptionRecord[];
}

export const ROLES = {
  appAdmin: "ROLE_APPLICATION_MANAGEMENT_ADMIN",
  appRead: "ROLE_APPLICATION_MANAGEMENT_READ",
  tenantAdmin: "ROLE_TENANT_MANAGEMENT_ADMIN",
  tenantRead: "ROLE_TENANT_MANAGEMENT_READ",
  inventoryAdmin: "ROLE_INVENTORY_ADMIN",
  inventoryRead: "ROLE_INVENTORY_READ",
  inventoryCreate: "ROLE_INVENTORY_CREATE",
  identityAdmin: "ROLE_IDENTITY_ADMIN",
  identityRead: "ROLE_IDENTITY_READ",
  measurementAdmin: "ROLE_MEASUREMENT_ADMIN",
  measurementRead: "ROLE_MEASUREMENT_READ",
  eventAdmin: "ROLE_EVENT_ADMIN",
  eventRead: "ROLE_EVENT_READ",
  alarmAdmin: "ROLE_ALARM_ADMIN",
  alarmRead: "ROLE_ALARM_READ",
  deviceControlAdmin: "ROLE_DEVICE_CONTROL_ADMIN",
  deviceControlRead: "ROLE_DEVICE_CONTROL_READ",
  notification2Admin: "ROLE_NOTIFICATION_2_ADMIN",
  userAdmin: "ROLE_USER_MANAGEMENT_ADMIN",
  userRead: "ROLE_USER_MANAGEMENT_READ",
  userOwnRead: "ROLE_USER_MANAGEMENT_OWN_READ",
  optionAdmin: "ROLE_OPTION_MANAGEMENT_ADMIN",
  optionRead: "ROLE_OPTION_MANAGEMENT_READ",
} as const;

const ADMIN_ROLES = Object.values(ROLES);
/** The reader gets every READ role: it sees all data and changes nothing. */
const READER_ROLES = [
  ROLES.appRead,
  ROLES.tenantRead,
  ROLES.inventoryRead,
  ROLES.identityRead,
  ROLES.measurementRead,
  ROLES.eventRead,
  ROLES.alarmRead,
  ROLES.deviceControlRead,
  ROLES.userRead,
  ROLES.userOwnRead,
  ROLES.optionRead,
];

export const STATE_FILE = "state.json";

/** A password like the platform generates for service users: long, random, URL-safe. */
export function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}

function tenantId(taken: Set<string>): string {
  for (;;) {
    const id = `t${randomInt(10_000_000, 100_000_000)}`;
    if (!taken.has(id)) return id;
  }
}

function base32Secret(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return [...randomBytes(20)].map((byte) => alphabet[byte % 32]).join("");
}

/**
 * A fresh platform: an owner tenant with two subtenants, and in the owner an admin, a
 * read-only user and a user who must pass two-factor authentication. Each subtenant gets its
 * own admin so tests can act as a subscriber. Ids and passwords are random once and then
 * stable for the data directory.
 */
export function initialState(): SandboxState {
  const taken = new Set<string>();
  const ids = [0, 1, 2].map(() => {
    const id = tenantId(taken);
    taken.add(id);
    return id;
  });
  const [owner, first, second] = ids as [string, string, string];
  const person = (tenant: string, name: string, person: PersonRole, roles: string[]): UserRecord => ({
    tenant,
    name,
    password: generatePassword(),
    roles,
    kind: "person",
    person,
  });
  return {
    format: 1,
    tokenSecret: randomBytes(32).toString("base64url"),
    nextId: 1000 + randomInt(0, 9000),
    tenants: [
      { id: owner, parent: null },
      { id: first, parent: owner },
      { id: second, parent: owner },
    ],
    users: [
      person(owner, "admin", "admin", ADMIN_ROLES),
      person(owner, "reader", "read-only", READER_ROLES),
      { ...person(owner, "tfa-user", "tfa", ADMIN_ROLES), totpSecret: base32Secret() },
      person(first, "admin", "admin", ADMIN_ROLES),
      person(second, "admin", "admin", ADMIN_ROLES),
    ],
    applications: [],
    versions: [],
    subscriptions: [],
  };
}

/** The sandbox's state in `<dataDir>/state.json`, written atomically after every change. */
export class Store {
  readonly state: SandboxState;
  readonly dataDir: string;
  #saving: Promise<void> = Promise.resolve();
  readonly #queues = new Map<string, Promise<unknown>>();

  private constructor(dataDir: string, state: SandboxState) {
    this.dataDir = dataDir;
    this.state = state;
  }

  static async open(dataDir: string): Promise<Store> {
    await mkdir(dataDir, { recursive: true });
    const file = join(dataDir, STATE_FILE);
    let text: string | undefined;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (text === undefined) {
      const store = new Store(dataDir, initialState());
      await store.save();
      return store;
    }
    let state: SandboxState;
    try {
      state = JSON.parse(text) as SandboxState;
    } catch {
      throw new CliError(`The sandbox state ${file} is not valid JSON.`, {
        hint: "Remove the data directory (or choose another with --data-dir) to start from a fresh sandbox.",
      });
    }
    if (state.format !== 1) {
      throw new CliError(`The sandbox state ${file} was written by an incompatible version of c8y-ms.`, {
        hint: "Remove the data directory (or choose another with --data-dir) to start from a fresh sandbox.",
      });
    }
    return new Store(dataDir, state);
  }

  /** A new numeric id, as the platform uses for applications, versions and managed objects. */
  nextId(): string {
    return String(this.state.nextId++);
  }

  /**
   * Runs changes that wait in between (files, saves) one after another per `key` (an
   * application id), so two uploads, or an upload and a delete, of one application never
   * interleave. A job sees the state as the one before it left it.
   */
  exclusive<T>(key: string, job: () => Promise<T>): Promise<T> {
    const run = (this.#queues.get(key) ?? Promise.resolve()).catch(() => undefined).then(job);
    const tail = run.catch(() => undefined);
    this.#queues.set(key, tail);
    void tail.then(() => {
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    });
    return run;
  }

  /** Saves are serialised so a slow write never overtakes a newer one. */
  save(): Promise<void> {
    const file = join(this.dataDir, STATE_FILE);
    const snapshot = JSON.stringify(this.state, null, 2);
    this.#saving = this.#saving.catch(() => undefined).then(async () => {
      // Passwords live here: only the owner of the data directory may read it.
      await writeFileAtomic(file, snapshot, { mode: 0o600 });
    });
    return this.#saving;
  }
}
