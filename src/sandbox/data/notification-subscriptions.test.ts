import { describe, expect, it } from "vitest";
import { subscriptionInput, subscriptionMatches, typeFilterAccepts, type SubscriptionRow } from "./notification-subscriptions.js";

const row = (overrides: Partial<SubscriptionRow>): SubscriptionRow => ({
  id: "1",
  name: "s",
  context: "mo",
  source: "42",
  apis: ["*"],
  type_filter: null,
  fragments_to_copy: null,
  non_persistent: false,
  creation_time: new Date(),
  ...overrides,
});

describe("subscriptionInput", () => {
  it("reads a mo subscription with its filter, and defaults apis to * and persistence to on", () => {
    expect(subscriptionInput({ context: "mo", subscription: "a_1", source: { id: 42 }, subscriptionFilter: { apis: ["measurements"], typeFilter: "c8y_T" }, fragmentsToCopy: ["c8y_T"] })).toEqual({
      name: "a_1",
      context: "mo",
      source: "42",
      apis: ["measurements"],
      typeFilter: "c8y_T",
      fragmentsToCopy: ["c8y_T"],
      nonPersistent: false,
    });
    expect(subscriptionInput({ context: "tenant", subscription: "t", source: { id: "7" } })).toMatchObject({ source: null, apis: ["*"] });
  });

  it.each([
    [{ context: "device", subscription: "a" }, 'context must be "mo" or "tenant"'],
    [{ context: "mo", subscription: "has space", source: { id: "1" } }, "letters, digits and underscores"],
    [{ context: "mo", subscription: "a" }, "needs the managed object"],
    [{ context: "tenant", subscription: "a", subscriptionFilter: { apis: ["measurements"] } }, "measurements cannot be subscribed in the tenant context"],
    [{ context: "mo", subscription: "a", source: { id: "1" }, subscriptionFilter: { apis: ["*", "alarms"] } }, "wildcard * cannot be used together"],
    [{ context: "mo", subscription: "a", source: { id: "1" }, fragmentsToCopy: "c8y_T" }, "fragmentsToCopy must be a list"],
  ])("refuses %j with 422 naming the problem", (body, message) => {
    expect(() => subscriptionInput(body)).toThrow(message);
  });
});

describe("which changes a subscription wants", () => {
  it("matches the api (or *, or the WithChildren variant), the source in the mo context, and the type filter", () => {
    expect(subscriptionMatches(row({ apis: ["measurements"] }), "measurements", "42", "t")).toBe(true);
    expect(subscriptionMatches(row({ apis: ["measurements"] }), "events", "42", "t")).toBe(false);
    expect(subscriptionMatches(row({ apis: ["alarmsWithChildren"] }), "alarms", "42", "t")).toBe(true);
    expect(subscriptionMatches(row({}), "events", "43", "t")).toBe(false);
    expect(subscriptionMatches(row({ context: "tenant", source: null }), "alarms", "99", "t")).toBe(true);
    expect(subscriptionMatches(row({ context: "tenant", source: null }), "measurements", "99", "t")).toBe(false);
    expect(subscriptionMatches(row({ type_filter: "c8y_A" }), "events", "42", "c8y_B")).toBe(false);
  });

  it("reads a type filter as one type or quoted alternatives joined by or", () => {
    expect(typeFilterAccepts("c8y_A", "c8y_A")).toBe(true);
    expect(typeFilterAccepts("'c8y_A' or 'it''s'", "it's")).toBe(true);
    expect(typeFilterAccepts("'c8y_A' or 'c8y_B'", "c8y_C")).toBe(false);
    expect(typeFilterAccepts("c8y_A", undefined)).toBe(false);
  });
});
