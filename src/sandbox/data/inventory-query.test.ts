import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "./database.js";
import { parseInventoryQuery, QuerySyntaxError, wildcardPattern } from "./inventory-query.js";
import { addReference, createManagedObject, queryManagedObjects } from "./managed-objects.js";

describe("parseInventoryQuery", () => {
  it("reads what @c8y/client's QueriesUtil builds: $filter=(...) and $orderby", () => {
    expect(parseInventoryQuery("$filter=(name eq 'Pump*' and has(c8y_IsDevice)) $orderby=name desc,creationTime asc")).toEqual({
      filter: {
        kind: "and",
        operands: [
          { kind: "compare", property: "name", op: "eq", value: "Pump*" },
          { kind: "has", fragment: "c8y_IsDevice" },
        ],
      },
      orderBy: [
        { property: "name", descending: true },
        { property: "creationTime", descending: false },
      ],
    });
  });

  it("takes a bare expression as the filter, binds and tighter than or, and reads not(), numbers, booleans and doubled quotes", () => {
    expect(parseInventoryQuery("a eq 1 or b eq true and not(c ne 'it''s')")).toEqual({
      filter: {
        kind: "or",
        operands: [
          { kind: "compare", property: "a", op: "eq", value: 1 },
          {
            kind: "and",
            operands: [
              { kind: "compare", property: "b", op: "eq", value: true },
              { kind: "not", operand: { kind: "compare", property: "c", op: "ne", value: "it's" } },
            ],
          },
        ],
      },
      orderBy: [],
    });
  });

  it.each([
    ["name eq", "ends where more was expected"],
    ["name like 'x'", "Expected eq, ne, gt, ge, lt or le"],
    ["name eq 'open", "not closed"],
    ["(name eq 'x'", "ends where more was expected"],
    ["startswith(name, 'x')", "not supported"],
    ["$orderby=name sideways", "is not '<property> asc'"],
    ["name eq 'x' extra", "Unexpected 'extra'"],
  ])("refuses %j with a message naming the problem", (query, message) => {
    expect(() => parseInventoryQuery(query)).toThrow(QuerySyntaxError);
    expect(() => parseInventoryQuery(query)).toThrow(message);
  });

  it("turns * into LIKE's % and escapes LIKE's own wildcards", () => {
    expect(wildcardPattern("a_b%c*")).toBe("a\\_b\\%c%");
  });
});

describe("the compiled SQL on a real database", () => {
  let dir: string;
  let db: Database;
  const tenant = "t1";
  const names = async (query: string) => {
    const { rows } = await queryManagedObjects(db, tenant, { query: parseInventoryQuery(query) }, { limit: 100, offset: 0, withTotal: false });
    return rows.map((row) => row.name);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "c8y-ms-query-"));
    db = await openDatabase(dir);
    const make = (body: Record<string, unknown>) => createManagedObject(db, tenant, "admin", body);
    const group = await make({ name: "Group A", type: "c8y_DeviceGroup", c8y_IsDeviceGroup: {} });
    const pump = await make({ name: "Pump 1", type: "pump", c8y_IsDevice: {}, level: 7, c8y_Hardware: { serialNumber: "S-1" }, c8y_SupportedOperations: ["c8y_Restart"] });
    await make({ name: "Pump 2", type: "pump", c8y_IsDevice: {}, level: 12, active: true });
    await make({ name: "Valve", type: "valve", c8y_IsDevice: {}, level: "high" });
    await createManagedObject(db, "t2", "admin", { name: "Pump of another tenant", c8y_IsDevice: {} });
    await addReference(db, tenant, group.id, "childAssets", pump.id);
    // The first database of a machine makes the template (initdb): seconds on a busy machine.
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ["$filter=(name eq 'Pump*')", ["Pump 1", "Pump 2"]],
    ["$filter=(has(c8y_IsDevice) and not(type eq 'pump'))", ["Valve"]],
    ["$filter=(level gt 10 or name eq 'Valve')", ["Pump 2", "Valve"]],
    ["$filter=(level le 7)", ["Pump 1"]],
    ["$filter=(level gt 10f)", ["Pump 2"]],
    ["$filter=(c8y_Hardware.serialNumber eq 'S-1')", ["Pump 1"]],
    ["$filter=(c8y_SupportedOperations eq 'c8y_Restart')", ["Pump 1"]],
    ["$filter=(active eq true)", ["Pump 2"]],
    ["$filter=(type ne 'pump')", ["Group A", "Valve"]],
    ["$filter=(bygroupid(0) or bygroupid(10000000))", ["Pump 1"]],
    ["$filter=(has(c8y_IsDevice)) $orderby=name desc", ["Valve", "Pump 2", "Pump 1"]],
    ["$filter=(creationTime gt '2000-01-01T00:00:00Z' and has(c8y_IsDeviceGroup))", ["Group A"]],
  ])("%s finds %j, and nothing of the other tenant", async (query, expected) => {
    expect(await names(query)).toEqual(expected);
  });
});
