import { describe, expect, it } from "vitest";
import { call, expectProblem, newTenant } from "../helpers";

describe("webhook secrets on providers", () => {
  it("validates each kind's webhook fields, naming them and echoing no secret", async () => {
    const { apiKey } = await newTenant();
    const post = (json: Record<string, unknown>) => call("/v1/providers", { method: "POST", token: apiKey, json: { name: "p", ...json } });
    const fields = async (res: Response) => ((await expectProblem(res, 422, "validation_failed")).errors ?? []).map((e) => e.field);
    expect(await fields(await post({ kind: "resend", credentials: { api_key: "k", webhook_secret: "TOP-SECRET-not-whsec" } }))).toEqual([
      "body.credentials.webhook_secret",
    ]);
    expect(
      await fields(await post({ kind: "sendgrid", config: { webhook_public_key: "not base64!" }, credentials: { api_key: "k" } })),
    ).toEqual(["body.config.webhook_public_key"]);
    expect(
      await fields(
        await post({ kind: "mailgun", config: { domain: "mg.example.com" }, credentials: { api_key: "k", webhook_signing_key: "" } }),
      ),
    ).toEqual(["body.credentials.webhook_signing_key"]);
    expect(await fields(await post({ kind: "postmark", credentials: { server_token: "t", webhook_username: "herald" } }))).toEqual([
      "body.credentials.webhook_password",
    ]);
    expect(
      await fields(await post({ kind: "postmark", credentials: { server_token: "t", webhook_username: "a:b", webhook_password: "p" } })),
    ).toEqual(["body.credentials.webhook_username"]);
    expect(
      await fields(
        await post({
          kind: "ses",
          config: { region: "us-east-1", webhook_topic_arns: ["arn:aws:sqs:us-east-1:123456789012:q"] },
          credentials: { access_key_id: "AKIAIOSFODNN7EXAMPLE", secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
        }),
      ),
    ).toEqual(["body.config.webhook_topic_arns.0"]);
    const leak = await post({ kind: "resend", credentials: { api_key: "k", webhook_secret: "TOP-SECRET-not-whsec" } });
    expect(await leak.text()).not.toContain("TOP-SECRET");
  });
});
