import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  envFileText,
  parseImageCommand,
  parseInspectLines,
  runArgs,
  secretEnvironment,
  serviceEnvironment,
  serviceResources,
  shellEnvironment,
  type RunSpec,
} from "./run-spec.js";

describe("serviceResources (the manifest's limits, src/manifest defaults)", () => {
  it("takes the platform's defaults: 512M, half a core, one replica, MULTI_TENANT", () => {
    expect(serviceResources({})).toEqual({ memory: "512M", memoryBytes: 512_000_000, cpus: 0.5, replicas: 1, isolation: "MULTI_TENANT" });
  });
  it.each([
    [{ resources: { memory: "256Mi", cpu: "250m" } }, { memory: "256Mi", memoryBytes: 256 * 2 ** 20, cpus: 0.25 }],
    [{ resources: { memory: "1G", cpu: "2" }, replicas: 3, isolation: "PER_TENANT" }, { memoryBytes: 1e9, cpus: 2, replicas: 3, isolation: "PER_TENANT" }],
    [{ replicas: 9 }, { replicas: 5 }],
  ])("reads %j", (manifest, expected) => {
    expect(serviceResources(manifest)).toMatchObject(expected);
  });
});

describe("serviceEnvironment (platform.md §4.1)", () => {
  const base = {
    application: { name: "svc", key: "svc-key", owner: "t100" },
    resources: serviceResources({ resources: { memory: "256M" } }),
    baseUrl: "http://127.0.0.1:8111",
    serverPort: 80,
    bootstrap: { name: "servicebootstrap_svc", password: "boot-pw" },
  };
  it("gives every service the platform's variables, bootstrap credentials included", () => {
    expect(serviceEnvironment(base)).toEqual({
      APPLICATION_NAME: "svc",
      APPLICATION_KEY: "svc-key",
      SERVER_PORT: "80",
      C8Y_BASEURL: "http://127.0.0.1:8111",
      C8Y_MICROSERVICE_ISOLATION: "MULTI_TENANT",
      C8Y_BOOTSTRAP_REGISTER: "false",
      C8Y_BOOTSTRAP_TENANT: "t100",
      C8Y_BOOTSTRAP_USER: "servicebootstrap_svc",
      C8Y_BOOTSTRAP_PASSWORD: "boot-pw",
      MICROSERVICE_SUBSCRIPTION_ENABLED: "true",
      MEMORY_LIMIT: "256M",
      LOG4J_FORMAT_MSG_NO_LOOKUPS: "true",
    });
  });
  it("adds the tenant and its service user for a PER_TENANT instance", () => {
    expect(serviceEnvironment({ ...base, tenant: { id: "t200", user: "service_svc", password: "svc-pw" } })).toMatchObject({ C8Y_TENANT: "t200", C8Y_USER: "service_svc", C8Y_PASSWORD: "svc-pw" });
  });
});

describe("runArgs", () => {
  const environment = { APPLICATION_NAME: "svc", SERVER_PORT: "80", C8Y_BOOTSTRAP_PASSWORD: "boot-pw", C8Y_PASSWORD: "svc-pw" };
  const spec: RunSpec = {
    name: "c8y-ms-svc-1",
    labels: { "c8y-ms.sandbox": "/data" },
    image: "c8y-ms-sandbox-0123456789/svc:v1001",
    resources: serviceResources({ resources: { memory: "256M", cpu: "250m" } }),
    network: { mode: "isolated" },
    environment,
    secrets: { kind: "launcher", hostDir: "/data/run/ab12cd34", command: ["node", "server.js"] },
  };

  it("starts an isolated instance with the platform's limits, its own network and the launcher in front of the image's command", () => {
    expect(runArgs("docker", spec)).toEqual([
      "run", "-d", "--name", "c8y-ms-svc-1", "--label", "c8y-ms.sandbox=/data",
      "--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE",
      "--memory", "256000000", "--cpus", "0.25", "--pids-limit", "10240",
      "--restart", "on-failure",
      "--network", "none",
      "-e", "APPLICATION_NAME=svc", "-e", "SERVER_PORT=80",
      "--mount", "type=bind,source=/data/run/ab12cd34,target=/c8y-ms-sandbox,readonly",
      "--entrypoint", "/bin/sh", "c8y-ms-sandbox-0123456789/svc:v1001", "/c8y-ms-sandbox/launch.sh", "node", "server.js",
    ]);
  });

  it("never puts a password on the command line, whichever way the passwords go", () => {
    for (const secrets of [spec.secrets, { kind: "env-file" as const, path: "/data/run/ab12cd34.env" }]) {
      const args = runArgs("podman", { ...spec, secrets }).join(" ");
      expect(args).not.toContain("boot-pw");
      expect(args).not.toContain("svc-pw");
      expect(args).not.toContain("PASSWORD");
    }
    expect(runArgs("podman", { ...spec, secrets: { kind: "env-file", path: "/e" } }).slice(-3)).toEqual(["--env-file", "/e", spec.image]);
  });

  it("publishes on 127.0.0.1 only, and names the host for docker", () => {
    const publish = runArgs("docker", { ...spec, network: { mode: "publish", ports: [[40001, 80], [40002, 8080]] } });
    expect(publish.join(" ")).toContain("-p 127.0.0.1:40001:80 -p 127.0.0.1:40002:8080 --add-host host.docker.internal:host-gateway");
    expect(runArgs("podman", { ...spec, network: { mode: "publish", ports: [[40001, 80]] } })).not.toContain("--add-host");
    expect(runArgs("docker", { ...spec, network: { mode: "host" } }).join(" ")).toContain("--network host");
  });
});

describe("the passwords' files", () => {
  const secrets = secretEnvironment({ APPLICATION_NAME: "svc", C8Y_BOOTSTRAP_PASSWORD: "it's $HOME `x` \\\\n", C8Y_PASSWORD: "plain" });

  it("hold the passwords and nothing else", () => {
    expect(Object.keys(secrets)).toEqual(["C8Y_BOOTSTRAP_PASSWORD", "C8Y_PASSWORD"]);
    expect(envFileText(secrets)).toBe("C8Y_BOOTSTRAP_PASSWORD=it's $HOME `x` \\\\n\nC8Y_PASSWORD=plain\n");
  });

  it("reads back exactly in a POSIX shell, quotes, dollars and backquotes included", () => {
    const script = `${shellEnvironment(secrets)}printf '%s|%s' "$C8Y_BOOTSTRAP_PASSWORD" "$C8Y_PASSWORD"`;
    expect(execFileSync("/bin/sh", ["-c", script], { encoding: "utf8" })).toBe(`${secrets.C8Y_BOOTSTRAP_PASSWORD}|plain`);
  });
});

describe("parsing the engine's answers", () => {
  it("runs ENTRYPOINT then CMD", () => {
    expect(parseImageCommand('["/docker-entrypoint.sh"]\t["node","server.js"]')).toEqual(["/docker-entrypoint.sh", "node", "server.js"]);
    expect(parseImageCommand('null\t["python3","app.py"]\n')).toEqual(["python3", "app.py"]);
    expect(parseImageCommand("null\tnull")).toEqual([]);
  });
  it("reads one container per inspect line", () => {
    expect(parseInspectLines("abc true 2 4242\ndef false 0 0\n")).toEqual([
      { id: "abc", running: true, restarts: 2, pid: 4242 },
      { id: "def", running: false, restarts: 0, pid: 0 },
    ]);
  });
});
