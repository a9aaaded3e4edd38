import { describe, expect, it } from "vitest";
import { LoginThrottle } from "./login-throttle.js";

describe("LoginThrottle", () => {
  it("lets five failures pass, then locks for 1 s, 2 s, 4 s... up to five minutes, the right password included", () => {
    let now = 0;
    const throttle = new LoginThrottle(() => now);
    for (let i = 0; i < 4; i++) {
      throttle.check("t1/admin");
      throttle.failed("t1/admin");
    }
    throttle.check("t1/admin");
    throttle.failed("t1/admin");
    expect(() => throttle.check("t1/admin")).toThrow("Too many failed logins for t1/admin; try again in 1 s.");
    now += 1000;
    throttle.check("t1/admin");
    throttle.failed("t1/admin");
    expect(() => throttle.check("t1/admin")).toThrow("try again in 2 s.");
    for (let i = 0; i < 20; i++) throttle.failed("t1/admin");
    expect(() => throttle.check("t1/admin")).toThrow("try again in 300 s.");
  });

  it("counts every spelling of one user name together, and forgets the failures after a success", () => {
    let now = 0;
    const throttle = new LoginThrottle(() => now);
    for (const login of ["t1/admin", "T1/Admin", "admin", "t2/ADMIN", "admin"]) throttle.failed(login);
    expect(() => throttle.check("t1/admin")).toThrow(/Too many failed logins/);
    expect(() => throttle.check("reader")).not.toThrow();
    now += 1000;
    throttle.succeeded("t1/admin");
    throttle.failed("admin");
    expect(() => throttle.check("admin")).not.toThrow();
  });

  it("remembers a bounded number of logins, forgetting the oldest", () => {
    const throttle = new LoginThrottle(() => 0);
    for (let i = 0; i < 5; i++) throttle.failed("victim");
    for (let i = 0; i < 10_000; i++) throttle.failed(`made-up-${i}`);
    expect(() => throttle.check("victim")).not.toThrow();
  });
});
