import { describe, expect, test } from "vitest";
import { nameProblem, parseRoles, templateValues } from "./answers.js";

describe("nameProblem (platform.md §1.6, through the manifest's own name rules)", () => {
  test.each(["my-service", "a", "tracker2", "x".repeat(23)])("accepts %j", (name) => {
    expect(nameProblem(name)).toBeUndefined();
  });

  test.each([
    ["", 'Enter a name, e.g. "my-service".'],
    ["My Service", 'name "My Service" may contain only lowercase letters, digits and dashes: write "my-service".'],
    ["my_service", 'name "my_service" may contain only lowercase letters, digits and dashes: write "my-service".'],
    ["x".repeat(24), `name "${"x".repeat(24)}" has 24 characters; the platform allows at most 23: shorten it.`],
    ["-svc", 'name "-svc" starts or ends with a dash, which service names in Kubernetes may not: write "svc".'],
  ])("refuses %j with the manifest rule's message", (name, message) => {
    expect(nameProblem(name)).toBe(message);
  });
});

describe("parseRoles", () => {
  test("splits on commas, trims, drops empty entries and keeps each role once", () => {
    expect(parseRoles(" ROLE_INVENTORY_READ,, ROLE_ALARM_ADMIN ,ROLE_INVENTORY_READ,")).toEqual({
      roles: ["ROLE_INVENTORY_READ", "ROLE_ALARM_ADMIN"],
      errors: [],
      warnings: [],
    });
    expect(parseRoles("")).toEqual({ roles: [], errors: [], warnings: [] });
  });

  test("a role with a space is an error the platform would refuse; an odd spelling is a warning", () => {
    expect(parseRoles("ROLE INVENTORY READ").errors).toEqual(['"ROLE INVENTORY READ" is not a permission string (no spaces, not empty): write "ROLE_INVENTORY_READ".']);
    const odd = parseRoles("inventory_read");
    expect(odd.errors).toEqual([]);
    expect(odd.warnings).toEqual(['"inventory_read" does not look like a permission (ROLE_<NAME> in capitals): did you mean "ROLE_INVENTORY_READ"?']);
  });
});

test("templateValues names the roles, or says none", () => {
  const answers = { name: "x", template: "node", isolation: "MULTI_TENANT" as const, provider: "P", requiredRoles: [] };
  expect(templateValues(answers)).toEqual({ name: "x", isolation: "MULTI_TENANT", provider: "P", requiredRoles: "none" });
  expect(templateValues({ ...answers, requiredRoles: ["ROLE_A", "ROLE_B"] }).requiredRoles).toBe("ROLE_A, ROLE_B");
});
