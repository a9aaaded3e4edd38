import { PORT_MAX, PORT_MIN } from "../formats.js";
import { show } from "../hints.js";
import { objectOf, textOf, type Check, type Report } from "../rules.js";

const PROBES = ["livenessProbe", "readinessProbe"] as const;
const ACTIONS = ["exec", "tcpSocket", "httpGet"] as const;
/** platform.md §1.5: every timing field is at least 1, except the initial delay. */
const TIMINGS = { initialDelaySeconds: 0, periodSeconds: 1, successThreshold: 1, timeoutSeconds: 1, failureThreshold: 1 } as const;

export const checkProbes: Check = (m, report) => {
  for (const name of PROBES) {
    const probe = objectOf(m[name]);
    if (!probe) continue;
    const at = `/${name}`;
    checkAction(name, probe, report);
    const httpGet = objectOf(probe.httpGet);
    if (httpGet) checkHttpGet(`${at}/httpGet`, httpGet, report);
    const tcpSocket = objectOf(probe.tcpSocket);
    if (tcpSocket) {
      checkPort(`${at}/tcpSocket/port`, tcpSocket.port, report);
      checkNoWhitespace(`${at}/tcpSocket/host`, tcpSocket.host, report);
    }
    const exec = objectOf(probe.exec);
    if (exec && Array.isArray(exec.command)) {
      if (exec.command.length === 0) report("probe-command", `${at}/exec/command`, `${name}.exec.command is empty: give the command and its arguments as items, e.g. ["/bin/healthcheck"].`);
      exec.command.forEach((arg, i) => checkNoWhitespace(`${at}/exec/command/${i}`, arg, report, " (split arguments into separate items)"));
    }
    for (const [field, minimum] of Object.entries(TIMINGS)) {
      const value = probe[field];
      if (typeof value === "number" && Number.isInteger(value) && value < minimum) {
        report("probe-threshold", `${at}/${field}`, `${name}.${field} is ${value}; it must be at least ${minimum}: write ${minimum}.`);
      }
    }
    const success = probe.successThreshold;
    if (name === "livenessProbe" && typeof success === "number" && Number.isInteger(success) && success > 1) {
      report("probe-liveness-success", `${at}/successThreshold`, `livenessProbe.successThreshold is ${success}; Kubernetes accepts only 1 for liveness probes: write 1 or remove it.`);
    }
  }
};

function checkAction(name: string, probe: Readonly<Record<string, unknown>>, report: Report): void {
  const present = ACTIONS.filter((action) => probe[action] !== undefined);
  if (present.length === 0) {
    report("probe-action", `/${name}`, `${name} has no action: add one of exec, tcpSocket or httpGet, e.g. "httpGet": {"path": "/health", "port": 80}.`);
  } else if (present.length > 1) {
    const [, second] = present;
    report("probe-action", `/${name}/${second}`, `${name} has ${present.length} actions (${present.join(", ")}); a probe takes exactly one: keep one and remove the others.`, "key");
  }
}

function checkHttpGet(at: string, httpGet: Readonly<Record<string, unknown>>, report: Report): void {
  const path = textOf(httpGet.path);
  if (path !== undefined && path !== "" && !/\s/.test(path) && !path.startsWith("/")) {
    report("probe-path", `${at}/path`, `httpGet.path ${show(path)} does not start with "/": write ${show(`/${path}`)}.`);
  }
  if (path === "") report("empty-value", `${at}/path`, 'httpGet.path is empty: write the health endpoint, e.g. "/health".');
  checkNoWhitespace(`${at}/path`, httpGet.path, report, path ? ` (write a space as %20: ${show(path.trim().replace(/\s/g, "%20"))})` : "");
  checkNoWhitespace(`${at}/host`, httpGet.host, report);
  checkPort(`${at}/port`, httpGet.port, report);
  if (Array.isArray(httpGet.headers)) {
    httpGet.headers.forEach((header, i) => {
      const h = objectOf(header);
      checkNoWhitespace(`${at}/headers/${i}/name`, h?.name, report);
      checkNoWhitespace(`${at}/headers/${i}/value`, h?.value, report);
    });
  }
}

function checkPort(pointer: string, port: unknown, report: Report): void {
  if (typeof port !== "number" || !Number.isInteger(port) || (port >= PORT_MIN && port <= PORT_MAX)) return;
  report("probe-port", pointer, `Port ${port} is out of range: write a port from ${PORT_MIN} to ${PORT_MAX} (the service listens on 80).`);
}

/** [CL-PROBE]: since 10.20.478.0 the platform rejects probe values with whitespace or line feeds. */
function checkNoWhitespace(pointer: string, value: unknown, report: Report, fix = ""): void {
  const text = textOf(value);
  if (text === undefined || !/\s/.test(text)) return;
  const kind = /[\r\n]/.test(text) ? "a line feed" : "whitespace";
  report("probe-whitespace", pointer, `${show(text)} contains ${kind}, which the platform rejects in probe settings: remove it${fix}.`);
}
