import { describe, expect, test } from "vitest";
import { checkManifestText } from "../manifest/load.js";
import { TemplateError } from "./catalog.js";
import { manifestWithAnswers, renderText } from "./render.js";

describe("renderText", () => {
  test("fills every placeholder, with or without spaces inside the braces", () => {
    expect(renderText("# {{name}}\n/service/{{ name }}/health", { name: "my-service" })).toBe("# my-service\n/service/my-service/health");
  });

  test("escapes values as JSON string content in JSON files", () => {
    expect(renderText('{"name": "{{provider}}"}', { provider: 'Acme "Q" \\ Ltd' }, { json: true })).toBe('{"name": "Acme \\"Q\\" \\\\ Ltd"}');
  });

  test("leaves text without placeholders alone, including other brace syntax", () => {
    const text = "docker inspect -f '{{.State.ExitCode}}' ${{ secrets.X }}";
    expect(renderText(text, {})).toBe(text);
  });

  test("a placeholder without a value is a broken template, never left in the output", () => {
    expect(() => renderText("{{name}} by {{author}}", { name: "x" })).toThrow(new TemplateError("The template uses {{author}}, which has no value."));
  });
});

describe("manifestWithAnswers", () => {
  const template = `${JSON.stringify(
    {
      apiVersion: "2",
      name: "my-service",
      version: "1.0.0-SNAPSHOT",
      provider: { name: "My Company", support: "support@example.com" },
      isolation: "MULTI_TENANT",
      requiredRoles: [],
      livenessProbe: { httpGet: { path: "/health" } },
    },
    null,
    2,
  )}\n`;

  test("sets name, provider name, isolation and roles in place and keeps everything else", () => {
    const text = manifestWithAnswers(template, {
      name: "tracker",
      provider: 'Acme "Q" Ltd',
      isolation: "PER_TENANT",
      requiredRoles: ["ROLE_INVENTORY_READ", "ROLE_ALARM_ADMIN"],
    });
    const manifest = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(manifest)).toEqual(["apiVersion", "name", "version", "provider", "isolation", "requiredRoles", "livenessProbe"]);
    expect(manifest).toMatchObject({
      name: "tracker",
      provider: { name: 'Acme "Q" Ltd', support: "support@example.com" },
      isolation: "PER_TENANT",
      requiredRoles: ["ROLE_INVENTORY_READ", "ROLE_ALARM_ADMIN"],
      livenessProbe: { httpGet: { path: "/health" } },
    });
    const report = checkManifestText(text, "cumulocity.json");
    expect([...report.errors, ...report.warnings]).toEqual([]);
  });

  test("writes the template's formatting back unchanged when the answers are its own values", () => {
    expect(manifestWithAnswers(template, { name: "my-service", provider: "My Company", isolation: "MULTI_TENANT", requiredRoles: [] })).toBe(template);
  });
});
