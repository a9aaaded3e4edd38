import { describe, expect, it } from "vitest";
import { CommandFailedError, CommandNotFoundError, type Exec } from "../exec.js";
import { detectEngine, EngineNotAvailableError } from "./engine.js";

/** Engines as `exec` finds them: answering, installed but failing, or not on PATH. */
function machine(engines: Record<string, "ok" | "down" | "missing">, env: Record<string, string> = {}) {
  const warnings: string[] = [];
  const exec: Exec = {
    run: async (command, args) => {
      const state = engines[command] ?? "missing";
      if (state === "missing") throw new CommandNotFoundError(command);
      if (state === "down") throw new CommandFailedError(command, args, 1, ["Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"]);
      if (args[0] === "network") throw new CommandFailedError(command, args, 1, ["network bridge not found"]);
      return { stdout: "27.3.1\n", stderr: "", tail: [] };
    },
  };
  const logger = { warn: (m: string) => warnings.push(m), debug: () => {} } as unknown as import("../ui/logger.js").Logger;
  return { warnings, ctx: { exec, env, logger, signal: new AbortController().signal } };
}

describe("detectEngine", () => {
  it("takes docker first, then podman; C8Y_MS_ENGINE and --engine choose", async () => {
    expect((await detectEngine(machine({ docker: "ok", podman: "ok" }).ctx)).name).toBe("docker");
    expect((await detectEngine(machine({ docker: "ok", podman: "ok" }, { C8Y_MS_ENGINE: "podman" }).ctx)).name).toBe("podman");
    expect((await detectEngine(machine({ docker: "ok", podman: "ok" }, { C8Y_MS_ENGINE: "podman" }).ctx, "docker")).name).toBe("docker");
  });

  it("says so when it falls back past a docker that is installed but not running", async () => {
    const m = machine({ docker: "down", podman: "ok" });
    expect((await detectEngine(m.ctx)).name).toBe("podman");
    expect(m.warnings).toEqual(["docker is installed but not usable: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running? Using podman instead (--engine chooses)."]);
    const quiet = machine({ docker: "missing", podman: "ok" });
    await detectEngine(quiet.ctx);
    expect(quiet.warnings).toEqual([]);
  });

  const refusal = (promise: Promise<unknown>) => promise.then(() => expect.unreachable("an engine was found"), (e: unknown) => e as EngineNotAvailableError);

  it("gives the fix that fits: install what is missing, start what is down", async () => {
    const none = await refusal(detectEngine(machine({}).ctx));
    expect(none).toBeInstanceOf(EngineNotAvailableError);
    expect(none.message).toBe("docker is not installed. podman is not installed.");
    expect(none.hint).toContain("Install Docker");
    const missing = await refusal(detectEngine(machine({ docker: "ok" }).ctx, "podman"));
    expect(missing.hint).toBe("Install podman, or choose the other engine with --engine.");
    const down = await refusal(detectEngine(machine({ docker: "down" }).ctx, "docker"));
    expect(down.hint).toMatch(/^Start docker \(e\.g\. `sudo systemctl start docker`/);
  });

  it("uses the host network where docker has no bridge", async () => {
    expect((await detectEngine(machine({ docker: "ok" }).ctx)).network).toBe("host");
    expect((await detectEngine(machine({ docker: "ok" }, { C8Y_MS_NETWORK: "default" }).ctx)).network).toBeUndefined();
  });
});
