// Provider settings an attacker with providers:write could abuse, and settings that parse but make
// no sense.
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { providers } from "../../src/db/schema";
import { call, expectProblem, newTenant, withDb } from "../helpers";
import { address, captured, stubs } from "./helpers";

const s = stubs();

async function create(token: string, body: Record<string, unknown>): Promise<string> {
  const res = await call("/v1/providers", { method: "POST", token, json: body });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return (JSON.parse(text) as { id: string }).id;
}

async function stored(id: string) {
  return withDb(async (db) => (await db.select().from(providers).where(eq(providers.id, id)))[0]!);
}

async function problem(res: Response) {
  return ((await expectProblem(res, 422, "validation_failed")).errors ?? []).map((e) => [e.field, e.message] as const);
}

const smtpCreds = { username: s.smtp.username, password: s.smtp.password };

describe("PATCH /v1/providers/{id}: moving the credentials", () => {
  it("refuses a config that sends the stored credentials elsewhere unless they are given again", async () => {
    const { apiKey } = await newTenant();
    const id = await create(apiKey, {
      name: "r",
      kind: "resend",
      config: { base_url: s.resend.baseUrl },
      credentials: { api_key: s.resend.apiKey },
    });
    const before = await stored(id);
    const patch = (json: unknown) => call(`/v1/providers/${id}`, { method: "PATCH", token: apiKey, json });

    // The attack: point the stored key at a host of one's own, then read it off with the test send.
    const moved = await problem(await patch({ config: { base_url: "https://collector.example.net" } }));
    expect(moved).toEqual([
      ["body.credentials", expect.stringMatching(/^required: .*somewhere else \(config\.base_url\); give them again/)],
    ]);
    // Dropping base_url moves them too (to Resend's own API), and so does another port.
    expect((await problem(await patch({ config: {} })))[0]![0]).toBe("body.credentials");
    expect((await problem(await patch({ config: { base_url: s.resend.baseUrl.replace(/:(\d+)/, ":1") } })))[0]![0]).toBe(
      "body.credentials",
    );
    const after = await stored(id);
    expect(after.config).toEqual(before.config);
    expect(after.credentials).toBe(before.credentials);

    // The stored key still goes only where it went.
    const to = address("still-home");
    const test = await call(`/v1/providers/${id}/test`, { method: "POST", token: apiKey, json: { to } });
    expect(((await test.json()) as { status: string }).status).toBe("accepted");
    expect(await captured("resend", to)).toHaveLength(1);

    // Same origin: no credentials needed. With them: any destination.
    expect((await patch({ config: { base_url: `${s.resend.baseUrl}/`, timeout_ms: 5000 } })).status).toBe(200);
    expect((await patch({ config: { base_url: "https://collector.example.net" }, credentials: { api_key: "re_their_own" } })).status).toBe(
      200,
    );
  });

  it("applies to every kind's destination: sink URL, SMTP host, port and security, Mailgun and SES regions", async () => {
    const { apiKey } = await newTenant();
    const cases: { body: Record<string, unknown>; moves: Record<string, unknown>[]; stays: Record<string, unknown>[] }[] = [
      {
        body: { kind: "sink", config: { url: s.sink.url }, credentials: { token: "t" } },
        moves: [{ url: "https://sink.example.net/" }, { url: s.sinkFaultUrl }],
        stays: [{ url: s.sink.url, timeout_ms: 1000 }],
      },
      {
        body: { kind: "smtp", config: { host: s.smtp.host, port: s.smtp.port, security: "none" }, credentials: smtpCreds },
        moves: [
          { host: "smtp.example.net", port: 2525 },
          { host: s.smtp.host, port: s.smtp.openPort, security: "none" },
          { host: "localhost", port: s.smtp.port, security: "none" },
        ],
        stays: [{ host: s.smtp.host, port: s.smtp.port, security: "none", helo_name: "herald.test" }],
      },
      {
        body: { kind: "mailgun", config: { domain: "mg.example.com" }, credentials: { api_key: "key-x" } },
        moves: [
          { domain: "mg.example.com", region: "eu" },
          { domain: "mg.example.com", base_url: "https://mailgun.example.net" },
        ],
        // The domain is a path on the same API host: the key goes to the same place.
        stays: [{ domain: "other.example.com" }, { domain: "mg.example.com", region: "us", concurrency: 2 }],
      },
      {
        body: {
          kind: "ses",
          config: { region: "eu-west-1" },
          credentials: { access_key_id: "AKIAHERALDTEST0001", secret_access_key: "x".repeat(20) },
        },
        moves: [{ region: "us-east-1" }, { region: "eu-west-1", base_url: "https://ses.example.net" }],
        stays: [{ region: "eu-west-1", configuration_set: "main" }],
      },
    ];
    for (const c of cases) {
      const id = await create(apiKey, { name: String(c.body.kind), ...c.body });
      const patch = (json: unknown) => call(`/v1/providers/${id}`, { method: "PATCH", token: apiKey, json });
      for (const config of c.moves) {
        expect([c.body.kind, config, (await problem(await patch({ config }))).map(([f]) => f)]).toEqual([
          c.body.kind,
          config,
          ["body.credentials"],
        ]);
      }
      for (const config of c.stays) {
        const res = await patch({ config });
        expect([c.body.kind, config, res.status], await res.text()).toEqual([c.body.kind, config, 200]);
      }
    }
  });

  it("does not ask for credentials a provider does not have, and accepts null to drop them on the move", async () => {
    const { apiKey } = await newTenant();
    const bare = await create(apiKey, { name: "s", kind: "sink", config: { url: s.sink.url } });
    expect(
      (await call(`/v1/providers/${bare}`, { method: "PATCH", token: apiKey, json: { config: { url: s.sinkFaultUrl } } })).status,
    ).toBe(200);
    const withToken = await create(apiKey, { name: "s", kind: "sink", config: { url: s.sink.url }, credentials: { token: "t" } });
    const res = await call(`/v1/providers/${withToken}`, {
      method: "PATCH",
      token: apiKey,
      json: { config: { url: s.sinkFaultUrl }, credentials: null },
    });
    expect(res.status).toBe(200);
    expect((await stored(withToken)).credentials).toBeNull();
  });
});

describe("provider settings that contradict each other", () => {
  it("refuses a daily quota the rate can never reach, naming the field the request changed; 0 stays unlimited", async () => {
    const { apiKey } = await newTenant();
    const sink = { name: "s", kind: "sink", config: { url: s.sink.url } };
    const post = (extra: Record<string, unknown>) => call("/v1/providers", { method: "POST", token: apiKey, json: { ...sink, ...extra } });
    expect(await problem(await post({ rate_per_second: 1, daily_quota: 86_401 }))).toEqual([
      ["body.daily_quota", expect.stringMatching(/can never be reached at rate_per_second 1 \(at most 86400 a day\)/)],
    ]);
    expect((await post({ rate_per_second: 1, daily_quota: 86_400 })).status).toBe(201);
    expect((await post({ rate_per_second: 5, daily_quota: 0 })).status).toBe(201);

    const id = await create(apiKey, { ...sink, rate_per_second: 10, daily_quota: 500_000 });
    const patch = (json: unknown) => call(`/v1/providers/${id}`, { method: "PATCH", token: apiKey, json });
    expect((await problem(await patch({ rate_per_second: 1 }))).map(([f]) => f)).toEqual(["body.rate_per_second"]);
    expect((await problem(await patch({ daily_quota: 900_000_000 }))).map(([f]) => f)).toEqual(["body.daily_quota"]);
    expect((await patch({ rate_per_second: 1, daily_quota: 0 })).status).toBe(200);
  });

  it("refuses SMTP ports and security that cannot talk to each other", async () => {
    const { apiKey } = await newTenant();
    const post = (config: Record<string, unknown>) =>
      call("/v1/providers", { method: "POST", token: apiKey, json: { name: "m", kind: "smtp", config, credentials: smtpCreds } });
    expect(await problem(await post({ host: "smtp.example.com", port: 465, security: "starttls" }))).toEqual([
      ["body.config.security", expect.stringMatching(/port 465 speaks TLS from the first byte/)],
    ]);
    expect(await problem(await post({ host: "smtp.example.com", port: 465 }))).toEqual([
      ["body.config.security", expect.stringMatching(/465/)],
    ]);
    expect(await problem(await post({ host: "smtp.example.com", port: 587, security: "tls" }))).toEqual([
      ["body.config.security", expect.stringMatching(/STARTTLS/)],
    ]);
    expect((await post({ host: "smtp.example.com", port: 465, security: "tls" })).status).toBe(201);
    expect((await post({ host: "smtp.example.com", port: 587, security: "starttls" })).status).toBe(201);
  });
});
