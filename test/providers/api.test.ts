import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { campaigns, providers } from "../../src/db/schema";
import { uuidv7 } from "../../src/lib/ids";
import { openDb } from "../../src/services/db";
import { call, expectProblem, newTenant } from "../helpers";
import { address, captured, smtpMessages, stubs } from "./helpers";

const s = stubs();

interface ProviderDto {
  id: string;
  name: string;
  kind: string;
  config: Record<string, unknown>;
  has_credentials: boolean;
  rate_per_second: number;
  daily_quota: number;
  priority: number;
  enabled: boolean;
  updated_at: string;
}

async function create(token: string, body: Record<string, unknown>) {
  const res = await call("/v1/providers", { method: "POST", token, json: body });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return { dto: JSON.parse(text) as ProviderDto, text };
}

const resendBody = (apiKey = s.resend.apiKey) => ({
  name: "Resend",
  kind: "resend",
  config: { base_url: s.resend.baseUrl },
  credentials: { api_key: apiKey },
  rate_per_second: 50,
  daily_quota: 10_000,
  priority: 1,
});

async function storedCredentials(id: string): Promise<string | null> {
  const handle = openDb(env);
  try {
    const [row] = await handle.db.select({ credentials: providers.credentials }).from(providers).where(eq(providers.id, id));
    return row!.credentials;
  } finally {
    await handle.close();
  }
}

describe("/v1/providers", () => {
  it("creates a provider and never returns or stores its credentials in the clear", async () => {
    const { apiKey } = await newTenant();
    const secret = `re_${crypto.randomUUID()}`;
    const { dto, text } = await create(apiKey, resendBody(secret));
    expect(dto).toMatchObject({
      name: "Resend",
      kind: "resend",
      config: { base_url: s.resend.baseUrl },
      has_credentials: true,
      rate_per_second: 50,
      daily_quota: 10_000,
      priority: 1,
      enabled: true,
    });
    expect(dto).not.toHaveProperty("credentials");
    const bodies = [text];
    bodies.push(await (await call(`/v1/providers/${dto.id}`, { token: apiKey })).text());
    bodies.push(await (await call("/v1/providers", { token: apiKey })).text());
    bodies.push(await (await call(`/v1/providers/${dto.id}`, { method: "PATCH", token: apiKey, json: { name: "Resend 2" } })).text());
    for (const body of bodies) {
      expect(body).not.toContain(secret);
      expect(body).not.toMatch(/"credentials"/);
    }
    const column = await storedCredentials(dto.id);
    expect(column).toMatch(/^v1\./);
    expect(column).not.toContain(secret);
  });

  it("applies defaults, and stores a sink without credentials", async () => {
    const { apiKey } = await newTenant();
    const { dto } = await create(apiKey, { name: "sink", kind: "sink", config: { url: s.sink.url } });
    expect(dto).toMatchObject({ has_credentials: false, rate_per_second: 10, daily_quota: 0, priority: 100, enabled: true });
    expect(await storedCredentials(dto.id)).toBeNull();
  });

  it("validates config and credentials against the kind, naming each field and echoing no secret", async () => {
    const { apiKey } = await newTenant();
    const post = (json: unknown) => call("/v1/providers", { method: "POST", token: apiKey, json });
    const fields = async (res: Response) => ((await expectProblem(res, 422, "validation_failed")).errors ?? []).map((e) => e.field);

    expect(await fields(await post({ name: "s", kind: "sink", config: {} }))).toEqual(["body.config.url"]);
    expect(await fields(await post({ name: "r", kind: "resend", config: {} }))).toEqual(["body.credentials"]);
    expect(await fields(await post({ name: "r", kind: "resend", credentials: { api_key: "" } }))).toEqual(["body.credentials.api_key"]);
    expect(
      await fields(
        await post({ name: "m", kind: "mailgun", config: { domain: "not a domain", regoin: "eu" }, credentials: { api_key: "k" } }),
      ),
    ).toEqual(expect.arrayContaining(["body.config.domain", "body.config.regoin"]));
    expect(await fields(await post({ name: "x", kind: "carrier-pigeon", config: {} }))).toEqual(["body.kind"]);
    expect(await fields(await post({ ...resendBody(), rate_per_second: 0, daily_quota: -1 }))).toEqual([
      "body.rate_per_second",
      "body.daily_quota",
    ]);
    expect(await fields(await post({ ...resendBody(), config: { base_url: "http://api.example.com" } }))).toEqual(["body.config.base_url"]);

    const leak = await post({ name: "r", kind: "resend", credentials: { api_key: "fine", apikey_typo: "TOP-SECRET-VALUE" } });
    const text = await leak.clone().text();
    expect(await fields(leak)).toEqual(["body.credentials.apikey_typo"]);
    expect(text).not.toContain("TOP-SECRET-VALUE");
  });

  it("patches fields; credentials change only when given, and config is validated against the kind", async () => {
    const { apiKey } = await newTenant();
    const { dto } = await create(apiKey, resendBody());
    const before = await storedCredentials(dto.id);
    const patch = (json: unknown) => call(`/v1/providers/${dto.id}`, { method: "PATCH", token: apiKey, json });

    const res = await patch({ enabled: false, priority: 5, daily_quota: 0 });
    expect(res.status).toBe(200);
    const patched = (await res.json()) as ProviderDto;
    expect(patched).toMatchObject({ enabled: false, priority: 5, daily_quota: 0, has_credentials: true, name: "Resend" });
    expect(Date.parse(patched.updated_at)).toBeGreaterThanOrEqual(Date.parse(dto.updated_at));
    expect(await storedCredentials(dto.id)).toBe(before);

    expect((await patch({ credentials: { api_key: "re_rotated" } })).status).toBe(200);
    const rotated = await storedCredentials(dto.id);
    expect(rotated).not.toBe(before);
    expect(rotated).not.toContain("re_rotated");

    const bad = await expectProblem(await patch({ config: { url: "http://x" } }), 422, "validation_failed");
    expect(bad.errors!.map((e) => e.field)).toEqual(["body.config.url"]);
    const kind = await expectProblem(await patch({ kind: "sink" }), 422, "validation_failed");
    // kind cannot change: the config and credentials were validated for the old one.
    expect(kind.errors![0]!.message).toContain("kind");
    await expectProblem(await patch({ credentials: null }), 422, "validation_failed");
  });

  it("paginates newest first with an opaque cursor", async () => {
    const { apiKey } = await newTenant();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await create(apiKey, { name: `sink ${i}`, kind: "sink", config: { url: s.sink.url } })).dto.id);
    const first = (await (await call("/v1/providers?limit=2", { token: apiKey })).json()) as { data: ProviderDto[]; next_cursor: string };
    const second = (await (await call(`/v1/providers?limit=2&cursor=${first.next_cursor}`, { token: apiKey })).json()) as {
      data: ProviderDto[];
      next_cursor: string | null;
    };
    expect([...first.data, ...second.data].map((p) => p.id)).toEqual([...ids].reverse());
    expect(second.next_cursor).toBeNull();
    await expectProblem(await call("/v1/providers?cursor=bogus", { token: apiKey }), 422, "validation_failed");
  });

  it("requires a credential and the providers scopes", async () => {
    await expectProblem(await call("/v1/providers"), 401, "unauthorized");
    const { apiKey } = await newTenant();
    const keyRes = await call("/v1/api-keys", { method: "POST", token: apiKey, json: { name: "ro", scopes: ["providers:read"] } });
    const readOnly = ((await keyRes.json()) as { key: string }).key;
    const { dto } = await create(apiKey, resendBody());
    expect((await call("/v1/providers", { token: readOnly })).status).toBe(200);
    expect((await call(`/v1/providers/${dto.id}`, { token: readOnly })).status).toBe(200);
    await expectProblem(await call("/v1/providers", { method: "POST", token: readOnly, json: resendBody() }), 403, "forbidden");
    await expectProblem(await call(`/v1/providers/${dto.id}`, { method: "PATCH", token: readOnly, json: { name: "x" } }), 403, "forbidden");
    await expectProblem(await call(`/v1/providers/${dto.id}`, { method: "DELETE", token: readOnly }), 403, "forbidden");
    await expectProblem(
      await call(`/v1/providers/${dto.id}/test`, { method: "POST", token: readOnly, json: { to: address() } }),
      403,
      "forbidden",
    );
    const noScope = await call("/v1/api-keys", { method: "POST", token: apiKey, json: { name: "c", scopes: ["contacts:read"] } });
    const contactsOnly = ((await noScope.json()) as { key: string }).key;
    await expectProblem(await call("/v1/providers", { token: contactsOnly }), 403, "forbidden");
  });

  it("hides another tenant's provider, and ids that are not UUIDs, as 404", async () => {
    const owner = await newTenant();
    const other = await newTenant();
    const { dto } = await create(owner.apiKey, resendBody());
    for (const id of [dto.id, "not-a-uuid", "1' OR '1'='1"]) {
      const path = `/v1/providers/${encodeURIComponent(id)}`;
      await expectProblem(await call(path, { token: other.apiKey }), 404, "not_found");
      await expectProblem(await call(path, { method: "PATCH", token: other.apiKey, json: { name: "mine" } }), 404, "not_found");
      await expectProblem(await call(path, { method: "DELETE", token: other.apiKey }), 404, "not_found");
      await expectProblem(await call(`${path}/test`, { method: "POST", token: other.apiKey, json: { to: address() } }), 404, "not_found");
    }
    const list = (await (await call("/v1/providers", { token: other.apiKey })).json()) as { data: ProviderDto[] };
    expect(list.data).toEqual([]);
    expect((await call(`/v1/providers/${dto.id}`, { token: owner.apiKey })).status).toBe(200);
  });

  it("deletes a provider, unless a live campaign still sends through it", async () => {
    const { apiKey, tenantId } = await newTenant();
    const free = (await create(apiKey, resendBody())).dto;
    const del = await call(`/v1/providers/${free.id}`, { method: "DELETE", token: apiKey });
    expect(del.status).toBe(204);
    await expectProblem(await call(`/v1/providers/${free.id}`, { token: apiKey }), 404, "not_found");

    const busy = (await create(apiKey, resendBody())).dto;
    const handle = openDb(env);
    try {
      await handle.db.insert(campaigns).values({
        id: uuidv7(),
        tenantId,
        name: "live",
        listIds: [],
        fromAddress: "a@herald.test",
        providerIds: [busy.id],
        state: "sending",
      });
    } finally {
      await handle.close();
    }
    await expectProblem(await call(`/v1/providers/${busy.id}`, { method: "DELETE", token: apiKey }), 409, "conflict");
  });

  it("answers 503, without details, when ENCRYPTION_KEY is missing or malformed", async () => {
    const { apiKey } = await newTenant();
    for (const key of ["", "too-short"]) {
      const res = await call("/v1/providers", { method: "POST", token: apiKey, json: resendBody(), env: { ENCRYPTION_KEY: key } });
      const problem = await expectProblem(res, 503, "service_unavailable");
      expect(problem.detail).not.toMatch(/ENCRYPTION_KEY/);
    }
  });
});

describe("POST /v1/providers/{id}/test", () => {
  const sendTest = (token: string, id: string, json: unknown) => call(`/v1/providers/${id}/test`, { method: "POST", token, json });

  it("sends one email through the provider and reports the result", async () => {
    const { apiKey } = await newTenant();
    const { dto } = await create(apiKey, resendBody());
    const to = address();
    const res = await sendTest(apiKey, dto.id, { to, subject: "Does it work?", from: "Ops <ops@herald.test>" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: "accepted",
      provider_message_id: expect.any(String),
      error: null,
      failure_kind: null,
    });
    const [req] = await captured("resend", to);
    expect((req!.body as { subject: string; from: string }[])[0]).toMatchObject({
      subject: "Does it work?",
      from: "Ops <ops@herald.test>",
    });
  });

  it("delivers through SMTP with the stored, encrypted login, even while disabled", async () => {
    const { apiKey } = await newTenant();
    const { dto } = await create(apiKey, {
      name: "relay",
      kind: "smtp",
      config: { host: "127.0.0.1", port: s.smtp.port, security: "none" },
      credentials: { username: s.smtp.username, password: s.smtp.password },
      enabled: false,
    });
    const to = address();
    const body = (await (await sendTest(apiKey, dto.id, { to })).json()) as { status: string; provider_message_id: string };
    expect(body.status).toBe("accepted");
    const [message] = await smtpMessages(to);
    expect(message).toMatchObject({ subject: "herald test: relay", messageId: body.provider_message_id, user: `PLAIN:${s.smtp.username}` });
  });

  it("reports rejections and whole-batch failures without echoing credentials", async () => {
    const { apiKey } = await newTenant();
    const { dto } = await create(apiKey, resendBody());
    const rejected = (await (await sendTest(apiKey, dto.id, { to: address("reject") })).json()) as Record<string, unknown>;
    expect(rejected).toMatchObject({ status: "rejected", error: expect.any(String), failure_kind: null });
    const throttled = (await (await sendTest(apiKey, dto.id, { to: address("throttle") })).json()) as Record<string, unknown>;
    expect(throttled).toMatchObject({ status: "failed", failure_kind: "rate_limited", retry_after_seconds: 7 });

    const wrong = (await create(apiKey, resendBody("re_wrong_secret_value"))).dto;
    const res = await sendTest(apiKey, wrong.id, { to: address() });
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ status: "failed", failure_kind: "auth" });
    expect(text).not.toContain("re_wrong_secret_value");
    await expectProblem(await sendTest(apiKey, dto.id, { to: "not an address" }), 422, "validation_failed");
  });
});
