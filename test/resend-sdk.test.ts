// The official `resend` SDK, unmodified, pointed at herald: RESEND_BASE_URL=<herald>/v1 and a
// herald API key. The SDK calls the global fetch; requests for herald's origin go to the app.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Resend } from "resend";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { receivedBy, sinkProvider, tag } from "./campaign-helpers";
import { sleep, waitForEmail } from "./email-helpers";
import { app, newTenant } from "./helpers";

const HERALD = "http://herald.sdk.test";
/** nodejs_compat's process.env (the worker's types have no Node globals). */
const processEnv = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;

beforeAll(() => {
  const realFetch = globalThis.fetch;
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    if (!req.url.startsWith(`${HERALD}/`)) return realFetch(input, init);
    const ctx = createExecutionContext();
    const res = await app.fetch(req, env, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  });
});

afterAll(() => {
  vi.unstubAllGlobals();
});

describe("the resend SDK against herald", () => {
  it("sends, sends a batch, reads an email back, and honours idempotency keys", async () => {
    const { apiKey } = await newTenant();
    await sinkProvider(apiKey);
    // As a user would configure it: RESEND_BASE_URL, read when the client is built.
    processEnv.RESEND_BASE_URL = `${HERALD}/v1`;
    const resend = new Resend(apiKey);
    delete processEnv.RESEND_BASE_URL;
    const t = tag();
    const to = `sdk.${t}@example.test`;

    const welcome = {
      from: "Acme <hello@example.test>",
      to,
      subject: "Welcome",
      html: "<p>Welcome</p>",
      replyTo: "support@example.test",
      tags: [{ name: "flow", value: "signup" }],
    };
    const sent = await resend.emails.send(welcome, { idempotencyKey: "signup-42" });
    expect(sent.error).toBeNull();
    const id = sent.data!.id;
    // The same request again, with the same key: the same email, not a second one.
    const replay = await resend.emails.send(welcome, { idempotencyKey: "signup-42" });
    expect(replay.data).toEqual({ id });
    const conflict = await resend.emails.send(
      { from: "Acme <hello@example.test>", to, subject: "Different", html: "<p>x</p>" },
      { idempotencyKey: "signup-42" },
    );
    expect(conflict.error).toMatchObject({ name: "invalid_idempotent_request", statusCode: 409 });

    const batch = await resend.batch.send([
      { from: "hello@example.test", to: `b1.${t}@example.test`, subject: "One", text: "1" },
      { from: "hello@example.test", to: [`b2.${t}@example.test`], subject: "Two", text: "2" },
    ]);
    expect(batch.error).toBeNull();
    expect(batch.data!.data).toHaveLength(2);

    await waitForEmail(apiKey, id, (e) => e.status === "sent");
    const got = await resend.emails.get(id);
    expect(got.error).toBeNull();
    expect(got.data).toMatchObject({
      object: "email",
      id,
      to: [to],
      from: "Acme <hello@example.test>",
      subject: "Welcome",
      reply_to: ["support@example.test"],
      last_event: "sent",
    });

    for (const e of batch.data!.data) await waitForEmail(apiKey, e.id, (x) => x.status === "sent");
    await sleep(200);
    expect(await receivedBy(t)).toEqual({ [to]: 1, [`b1.${t}@example.test`]: 1, [`b2.${t}@example.test`]: 1 });
  });

  it("gets Resend-shaped errors: validation, a bad key, an unknown email", async () => {
    const { apiKey } = await newTenant();
    await sinkProvider(apiKey);
    const resend = new Resend(apiKey, { baseUrl: `${HERALD}/v1` });
    const invalid = await resend.emails.send({ from: "not an address", to: "x@example.test", subject: "s", text: "t" });
    expect(invalid.data).toBeNull();
    expect(invalid.error).toMatchObject({ name: "validation_error", statusCode: 422 });
    expect(invalid.error!.message).toContain("body.from");

    const stranger = new Resend(`hk_${"A".repeat(43)}`, { baseUrl: `${HERALD}/v1` });
    const denied = await stranger.emails.send({ from: "a@example.test", to: "x@example.test", subject: "s", text: "t" });
    expect(denied.error).toMatchObject({ name: "invalid_api_key", statusCode: 401 });

    const missing = await resend.emails.get(crypto.randomUUID());
    expect(missing.error).toMatchObject({ name: "not_found", statusCode: 404 });
  });
});
