import { describe, expect, it } from "vitest";
import { issueNotificationToken, readNotificationToken } from "./notification-tokens.js";

const claims = { tenant: "t1", subscriber: "me", subscription: "sub", shared: true, nonPersistent: false };

describe("notification tokens", () => {
  it("carry the subscriber, subscription, sharing and persistence, and name the topic as the platform does", () => {
    const token = issueNotificationToken(claims, 5, "secret");
    expect(readNotificationToken(token, "secret")).toMatchObject(claims);
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
    expect(payload).toMatchObject({ sub: "me", topic: "t1/relnotif/sub", shared: true });
    const transient = issueNotificationToken({ ...claims, nonPersistent: true }, 5, "secret");
    expect(readNotificationToken(transient, "secret")).toMatchObject({ nonPersistent: true, subscription: "sub" });
  });

  it("are refused when signed with another secret, tampered with, expired or not a token at all", () => {
    const token = issueNotificationToken(claims, 5, "secret");
    expect(readNotificationToken(token, "other")).toBeUndefined();
    const [head, body, signature] = token.split(".");
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body ?? "", "base64url").toString("utf8")), sub: "intruder" })).toString("base64url");
    expect(readNotificationToken(`${head}.${forged}.${signature}`, "secret")).toBeUndefined();
    expect(readNotificationToken(issueNotificationToken(claims, -1, "secret"), "secret")).toBeUndefined();
    expect(readNotificationToken("forged", "secret")).toBeUndefined();
  });
});
