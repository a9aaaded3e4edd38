import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, readConfig } from "../src/config.js";

const multiTenant = {
  C8Y_BASEURL: "http://cumulocity:8111/",
  C8Y_BOOTSTRAP_TENANT: "t100",
  C8Y_BOOTSTRAP_USER: "servicebootstrap_my-service",
  C8Y_BOOTSTRAP_PASSWORD: "secret",
  APPLICATION_NAME: "my-service",
};

test("MULTI_TENANT is the default; port 80 unless SERVER_PORT says otherwise", () => {
  assert.deepEqual(readConfig(multiTenant), {
    port: 80,
    baseUrl: "http://cumulocity:8111",
    applicationName: "my-service",
    access: { isolation: "MULTI_TENANT", bootstrap: { tenant: "t100", user: "servicebootstrap_my-service", password: "secret" } },
  });
  assert.equal(readConfig({ ...multiTenant, SERVER_PORT: "8080" }).port, 8080);
});

test("PER_TENANT uses the tenant's service user from C8Y_TENANT, C8Y_USER and C8Y_PASSWORD", () => {
  const config = readConfig({
    C8Y_BASEURL: "http://cumulocity:8111",
    C8Y_MICROSERVICE_ISOLATION: "PER_TENANT",
    C8Y_TENANT: "t200",
    C8Y_USER: "service_my-service",
    C8Y_PASSWORD: "secret",
  });
  assert.deepEqual(config.access, { isolation: "PER_TENANT", serviceUser: { tenant: "t200", user: "service_my-service", password: "secret" } });
});

test("missing variables are all named at once", () => {
  assert.throws(
    () => readConfig({ C8Y_BOOTSTRAP_USER: "servicebootstrap_my-service" }),
    (error: unknown) =>
      error instanceof ConfigError && /C8Y_BASEURL, C8Y_BOOTSTRAP_TENANT, C8Y_BOOTSTRAP_PASSWORD\./.test(error.message),
  );
});

test("a malformed port or isolation is refused with the value shown", () => {
  assert.throws(() => readConfig({ ...multiTenant, SERVER_PORT: "http" }), /SERVER_PORT must be a port number from 1 to 65535, not "http"/);
  assert.throws(() => readConfig({ ...multiTenant, C8Y_MICROSERVICE_ISOLATION: "SHARED" }), /MULTI_TENANT or PER_TENANT, not "SHARED"/);
});
