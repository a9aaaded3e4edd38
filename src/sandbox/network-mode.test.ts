import { describe, expect, it } from "vitest";
import { chooseNetwork, type IsolationAbility } from "./network-mode.js";

const able: IsolationAbility = { platform: "linux", root: true, nsenter: true, localRootEngine: true, engineNetwork: "host" };

describe("chooseNetwork", () => {
  it("isolates services whenever it can, without a warning", () => {
    expect(chooseNetwork("auto", able)).toEqual({ mode: "isolated" });
    expect(chooseNetwork("isolated", able)).toEqual({ mode: "isolated" });
  });

  it.each([
    [{ root: false }, "the sandbox to run as root"],
    [{ nsenter: false }, "nsenter (util-linux) on PATH"],
    [{ localRootEngine: false }, "a rootful engine on this machine, not a rootless one or one in a VM"],
  ])("falls back on Linux to the host network when %j, saying what is exposed and what isolation needs", (lack, needs) => {
    expect(chooseNetwork("auto", { ...able, ...lack })).toEqual({
      mode: "host",
      warning: `Services run on the host network: each listens on its own port on every interface, where anyone who reaches this machine can call it without credentials (isolating them needs ${needs}).`,
    });
  });

  it("publishes on 127.0.0.1 elsewhere (Docker Desktop, Podman machines)", () => {
    expect(chooseNetwork("auto", { ...able, platform: "darwin", engineNetwork: undefined })).toEqual({
      mode: "publish",
      warning: "Services publish port 80 on 127.0.0.1: any program on this machine can call them without credentials (isolating them needs Linux network namespaces).",
    });
  });

  it("refuses isolation when asked for and not possible, and warns for an explicit weaker mode", () => {
    expect(() => chooseNetwork("isolated", { ...able, root: false })).toThrow("The sandbox cannot isolate services here: that needs the sandbox to run as root.");
    expect(chooseNetwork("host", able).warning).toMatch(/^Services run on the host network/);
  });
});
