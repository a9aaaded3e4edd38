import { describe, expect, it } from "vitest";
import { findLogin, issueToken, parseCookies, totpCode, totpMatches } from "./auth.js";
import { initialState } from "./state.js";

describe("totpCode (RFC 6238, SHA-1, 6 digits)", () => {
  // RFC 6238 appendix B: the ASCII secret "12345678901234567890", last six digits.
  const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
  it.each([
    [59_000, "287082"],
    [1_111_111_109_000, "081804"],
    [2_000_000_000_000, "279037"],
  ])("at %i ms gives %s", (at, code) => {
    expect(totpCode(secret, at)).toBe(code);
  });

  it("accepts one step of clock drift and no more", () => {
    const now = 1_700_000_000_000;
    expect(totpMatches(secret, totpCode(secret, now - 30_000), now)).toBe(true);
    expect(totpMatches(secret, totpCode(secret, now + 30_000), now)).toBe(true);
    expect(totpMatches(secret, totpCode(secret, now - 90_000), now)).toBe(false);
  });
});

describe("findLogin (platform.md §3.2)", () => {
  const state = initialState();
  const [owner, sub] = state.tenants.map((t) => t.id) as [string, string];
  const ownerAdmin = state.users.find((u) => u.tenant === owner && u.name === "admin")!;
  const subAdmin = state.users.find((u) => u.tenant === sub && u.name === "admin")!;

  it("finds tenant/user with the right password only", () => {
    expect(findLogin(state, `${owner}/admin`, ownerAdmin.password)).toBe(ownerAdmin);
    expect(findLogin(state, `${owner}/admin`, subAdmin.password)).toBeUndefined();
  });

  it("resolves a bare user name by its password, since every tenant has an admin", () => {
    expect(findLogin(state, "admin", subAdmin.password)).toBe(subAdmin);
    expect(findLogin(state, "admin", "wrong")).toBeUndefined();
  });

  it("takes the tenant from the login request when given separately (tenant_id)", () => {
    expect(findLogin(state, "admin", ownerAdmin.password, sub)).toBeUndefined();
    expect(findLogin(state, "admin", ownerAdmin.password, owner)).toBe(ownerAdmin);
  });
});

describe("issueToken", () => {
  it("makes a three-part JWT naming tenant and user", () => {
    const state = initialState();
    const user = state.users[0]!;
    const { token, xsrf } = issueToken(user, state.tokenSecret);
    const [head, body, signature] = token.split(".");
    expect(JSON.parse(Buffer.from(head!, "base64url").toString())).toEqual({ alg: "HS256", typ: "JWT" });
    expect(JSON.parse(Buffer.from(body!, "base64url").toString())).toMatchObject({ ten: user.tenant, sub: user.name, xsrf });
    expect(signature).toMatch(/^[\w-]{43}$/);
  });
});

describe("parseCookies", () => {
  it("reads name=value pairs", () => {
    expect(parseCookies("authorization=a.b.c; XSRF-TOKEN=x1; empty=")).toEqual({ authorization: "a.b.c", "XSRF-TOKEN": "x1", empty: "" });
    expect(parseCookies(undefined)).toEqual({});
  });
});
