import { describe, expect, it } from "vitest";
import { Redactor } from "../secrets.js";
import { bypassesProxy, createDispatcher } from "./dispatcher.js";

describe("which proxy a request goes through", () => {
  it.each([
    ["https://t1.example.com/x", "example.com", true],
    ["https://t1.example.com/x", ".example.com", true],
    ["https://example.com/x", ".example.com", true],
    ["https://notexample.com/x", "example.com", false],
    ["http://127.0.0.1:8111/x", "localhost, 127.0.0.1", true],
    ["http://127.0.0.1:8111/x", "127.0.0.1:9000", false],
    ["http://127.0.0.1:8111/x", "127.0.0.1:8111", true],
    ["https://example.com/x", "example.com:443", true],
    ["https://anything.org/x", "*", true],
    ["https://anything.org/x", "", false],
  ])("%s with NO_PROXY=%j bypasses the proxy: %s", (url, noProxy, expected) => {
    expect(bypassesProxy(new URL(url), noProxy)).toBe(expected);
  });

  it("takes HTTPS_PROXY for https and HTTP_PROXY for http, HTTP_PROXY when there is no HTTPS_PROXY, nothing for NO_PROXY hosts", async () => {
    const both = createDispatcher({ HTTPS_PROXY: "http://secure:3128", http_proxy: "http://plain:3128", NO_PROXY: "direct.example.com" }, new Redactor());
    expect(both.proxyFor(new URL("https://t1.example.com"))).toEqual({ url: "http://secure:3128", variable: "HTTPS_PROXY" });
    expect(both.proxyFor(new URL("http://t1.example.com"))).toEqual({ url: "http://plain:3128", variable: "HTTP_PROXY" });
    expect(both.proxyFor(new URL("https://direct.example.com"))).toBeUndefined();
    const httpOnly = createDispatcher({ HTTP_PROXY: "http://plain:3128" }, new Redactor());
    expect(httpOnly.proxyFor(new URL("https://t1.example.com"))).toEqual({ url: "http://plain:3128", variable: "HTTP_PROXY" });
    const none = createDispatcher({}, new Redactor());
    expect(none.proxyFor(new URL("https://t1.example.com"))).toBeUndefined();
    await Promise.all([both.dispatcher.close(), httpOnly.dispatcher.close(), none.dispatcher.close()]);
  });
});
