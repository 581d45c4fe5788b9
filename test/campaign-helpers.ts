import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call } from "./helpers";

type TestEnv = Env & { TEST_SINK_URL: string };
export const SINK_URL = (env as TestEnv).TEST_SINK_URL;

/** A unique tag for a test's addresses, so its sink counts never mix with another test's. */
export function tag(): string {
  return `t${crypto.randomUUID().slice(0, 12)}`;
}

async function ok<T>(res: Response, status = 201): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

export interface Audience {
  listId: string;
  emails: string[];
}

/** A list of `n` contacts addressed u<i>.<tag>@example.test. */
export async function audience(apiKey: string, t: string, n: number, extra: Record<string, unknown>[] = []): Promise<Audience> {
  const list = await ok<{ id: string }>(await call("/v1/lists", { method: "POST", token: apiKey, json: { name: `list-${t}` } }));
  const contacts = [
    ...Array.from({ length: n }, (_, i) => ({ email: `u${i}.${t}@example.test`, name: `User ${i}`, attributes: { n: i } })),
    ...extra,
  ];
  const res = await call(`/v1/contacts/import?list_id=${list.id}`, { method: "POST", token: apiKey, json: contacts });
  const report = await ok<{ created: number; errors: unknown[] }>(res, 200);
  expect(report.errors).toEqual([]);
  return { listId: list.id, emails: contacts.map((c) => String(c.email)) };
}

export async function template(apiKey: string, body: Record<string, unknown> = {}): Promise<string> {
  const created = await ok<{ id: string }>(
    await call("/v1/templates", {
      method: "POST",
      token: apiKey,
      json: { name: "t", subject: "Hello {{name}}", html: "<p>Hi {{name}}, plan {{attributes.n}}</p>", text: "Hi {{name}}", ...body },
    }),
  );
  return created.id;
}

/** A sink provider; `path` picks the sink's behaviour (see scripts/lib/sink-server.mjs). */
export async function sinkProvider(apiKey: string, opts: { path?: string; rate?: number; quota?: number } = {}): Promise<string> {
  const created = await ok<{ id: string }>(
    await call("/v1/providers", {
      method: "POST",
      token: apiKey,
      json: {
        name: `sink-${crypto.randomUUID().slice(0, 6)}`,
        kind: "sink",
        config: { url: new URL(opts.path ?? "/", SINK_URL).toString() },
        rate_per_second: opts.rate ?? 10_000,
        daily_quota: opts.quota ?? 0,
      },
    }),
  );
  return created.id;
}

export async function campaign(apiKey: string, body: { templateId: string; listIds: string[]; providerIds: string[]; data?: Record<string, unknown> }): Promise<string> {
  const created = await ok<{ id: string }>(
    await call("/v1/campaigns", {
      method: "POST",
      token: apiKey,
      json: {
        name: "c",
        template_id: body.templateId,
        list_ids: body.listIds,
        provider_ids: body.providerIds,
        from: "Herald Test <news@herald.test>",
        data: body.data ?? {},
      },
    }),
  );
  return created.id;
}

export interface CampaignDto {
  id: string;
  state: string;
  counts: { total: number; sent: number; failed: number; skipped: number };
}

export async function getCampaign(apiKey: string, id: string): Promise<CampaignDto> {
  return ok<CampaignDto>(await call(`/v1/campaigns/${id}`, { token: apiKey }), 200);
}

export async function progressOf(apiKey: string, id: string) {
  return ok<{ state: string; total: number; sent: number; failed: number; skipped: number; queued: number }>(
    await call(`/v1/campaigns/${id}/progress`, { token: apiKey }),
    200,
  );
}

/** Polls until `check` passes on the campaign, or fails the test with the last state seen. */
export async function waitFor(apiKey: string, id: string, check: (c: CampaignDto) => boolean, timeoutMs = 20_000): Promise<CampaignDto> {
  const deadline = Date.now() + timeoutMs;
  let last = await getCampaign(apiKey, id);
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`timed out; campaign is ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await getCampaign(apiKey, id);
  }
  return last;
}

export async function receivedBy(t: string): Promise<Record<string, number>> {
  return (await fetch(new URL(`/received?to=${encodeURIComponent(t)}`, SINK_URL))).json();
}

export async function keptMessages(t: string): Promise<{ id: string; to: string[]; subject: string; html: string; text: string; headers: Record<string, string> }[]> {
  return (await fetch(new URL(`/messages?to=${encodeURIComponent(t)}`, SINK_URL))).json();
}

export async function launch(apiKey: string, id: string) {
  return call(`/v1/campaigns/${id}/${"launch"}`, { method: "POST", token: apiKey });
}
