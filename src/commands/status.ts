import type { Context } from "../context.js";
import type { ConnectionOptions } from "../platform/connection.js";
import { readServiceStatus, type InstanceReport, type StatusResult } from "../pipeline/status.js";
import type { CommandResult } from "../result.js";
import { formatTable } from "../ui/format.js";

/** `c8y-ms status <name>`: application, active version, subscriptions and instances. */
export async function status(name: string, options: ConnectionOptions, ctx: Context): Promise<CommandResult> {
  const data = await readServiceStatus(name, options, ctx);
  return { data, line: renderStatus(data) };
}

function renderStatus(data: StatusResult): string {
  const rows: string[][] = [
    ["Application", `${data.application.name} (id ${data.application.id}, key ${data.application.key})`],
    ["Context path", data.application.contextPath ? `/service/${data.application.contextPath}` : "-"],
    ["Version", data.version ? `${data.version} (binary ${data.activeVersionId})` : "no binary uploaded"],
    ["Status", `${data.status ?? "unknown"}${data.reason ? ` (${data.reason})` : ""}`],
    ["Subscribed", data.subscriptions.length > 0 ? data.subscriptions.map((s) => (s.status ? `${s.tenant} (${s.status})` : s.tenant)).join(", ") : "no tenant"],
  ];
  const lines = [formatTable(rows)];
  if (data.instances.length > 0) {
    const state = (i: InstanceReport) => (i.ready ? "ready" : i.running ? "running, not ready" : i.running === false ? "not running" : "-");
    lines.push("", formatTable([["Instance", "State", "Restarts"], ...data.instances.map((i) => [i.name, state(i), String(i.restarts)])]));
  }
  return lines.join("\n");
}
