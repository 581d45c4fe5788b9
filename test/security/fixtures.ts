// The resources the route-security test puts in a tenant to aim another tenant's requests at: one
// factory per kind of path parameter (see kindOf in ./routes), each creating its resource through
// the API, and a read that shows the resource as its owner sees it, to prove nothing changed. An
// operation whose path names a kind missing here fails the test: add the kind, do not skip it.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { StoredEvent } from "../../src/events/message";
import { dispatchWebhooks, type WebhookDeliveryMessage } from "../../src/webhooks/outbound/dispatch";
import { call, withDb, type CallOptions, type TestTenant } from "../helpers";

// Far above anything the test sends: it is about who may call what, not how often. Under
// overridden rules the limiter keys its counts apart, so nothing here locks out another test.
const BIG = { limit: 1_000_000, windowSeconds: 60 };
export const SECURITY_ENV: Partial<Env> = {
  RATE_LIMIT_OVERRIDES: JSON.stringify({
    ip: BIG,
    free: { read: BIG, send: BIG },
    auth: { token: { ip: BIG, ipFailures: BIG, account: BIG }, signup: { ip: BIG, ipFailures: BIG } },
  }),
};

/** Calls the app with the rate limits lifted. */
export const send = (path: string, opts: CallOptions = {}) => call(path, { ...opts, env: { ...SECURITY_ENV, ...opts.env } });

const SINK_URL = (env as Env & { TEST_SINK_URL: string }).TEST_SINK_URL;
const tag = () => crypto.randomUUID().slice(0, 8);

async function created(res: Response, field = "id"): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBeLessThan(300);
  return String((JSON.parse(text) as Record<string, unknown>)[field]);
}

/** Creates a resource of one kind in `tenant`; `need` gives the id of any other kind it builds on. */
type Create = (tenant: TestTenant, need: (kind: string) => Promise<string>) => Promise<string>;

export interface Fixture {
  create: Create;
  /** Where the owner reads the resource; `id` gives the tenant's id of each kind. */
  read: (id: (kind: string) => string) => string;
}

const post = (tenant: TestTenant, path: string, json: unknown) => send(path, { method: "POST", token: tenant.apiKey, json });

export const FIXTURES: Record<string, Fixture> = {
  "api-keys": {
    create: async (t) => created(await post(t, "/v1/api-keys", { name: `k-${tag()}`, scopes: ["contacts:read"] })),
    read: (id) => `/v1/api-keys/${id("api-keys")}`,
  },
  contacts: {
    create: async (t) => created(await post(t, "/v1/contacts", { email: `owner-${tag()}@example.test`, name: "Owner" })),
    read: (id) => `/v1/contacts/${id("contacts")}`,
  },
  lists: {
    create: async (t) => created(await post(t, "/v1/lists", { name: `list-${tag()}` })),
    read: (id) => `/v1/lists/${id("lists")}`,
  },
  // /v1/lists/{id}/members/{contact_id}: the tenant's contact, a member of the tenant's list.
  members: {
    create: async (t, need) => {
      const [list, contact] = [await need("lists"), await need("contacts")];
      expect((await post(t, `/v1/lists/${list}/members`, { contact_ids: [contact] })).status).toBeLessThan(300);
      return contact;
    },
    read: (id) => `/v1/lists/${id("lists")}/members`,
  },
  templates: {
    create: async (t) =>
      created(await post(t, "/v1/templates", { name: "t", subject: "Hello {{name}}", html: "<p>Hi {{name}}</p>", text: "Hi" })),
    read: (id) => `/v1/templates/${id("templates")}`,
  },
  providers: {
    create: async (t) =>
      created(
        await post(t, "/v1/providers", {
          name: `sink-${tag()}`,
          kind: "sink",
          config: { url: new URL("/", SINK_URL).toString() },
          rate_per_second: 100,
        }),
      ),
    read: (id) => `/v1/providers/${id("providers")}`,
  },
  // A draft campaign, so every action on it has something to do if it were let through.
  campaigns: {
    create: async (t, need) =>
      created(
        await post(t, "/v1/campaigns", {
          name: "c",
          template_id: await need("templates"),
          list_ids: [await need("lists")],
          from: "owner@example.test",
          provider_ids: [await need("providers")],
        }),
      ),
    read: (id) => `/v1/campaigns/${id("campaigns")}`,
  },
  // Scheduled a day out, so it stays cancellable and its status stays put while the test runs.
  emails: {
    create: async (t, need) =>
      created(
        await post(t, "/v1/emails", {
          from: "owner@example.test",
          to: `to-${tag()}@example.test`,
          subject: "s",
          text: "t",
          provider_id: await need("providers"),
          scheduled_at: new Date(Date.now() + 86_400_000).toISOString(),
        }),
      ),
    read: (id) => `/v1/emails/${id("emails")}`,
  },
  // Suppressions are named by address; another tenant naming the same address reaches only its own.
  suppressions: {
    create: async (t) => created(await post(t, "/v1/suppressions", { email: `sup-${tag()}@example.test`, reason: "manual" }), "email"),
    read: (id) => `/v1/suppressions/${encodeURIComponent(id("suppressions"))}`,
  },
  webhooks: {
    create: async (t) => created(await post(t, "/v1/webhooks", { url: `https://example.com/hooks/${tag()}` })),
    read: (id) => `/v1/webhooks/${id("webhooks")}`,
  },
  // No route creates a delivery: herald makes one when an event reaches a subscribed endpoint. The
  // fixture runs that dispatch as the events consumer does, with the delivery queue captured so the
  // delivery stays pending (and unchanged) for the whole test.
  deliveries: {
    create: async (t, need) => {
      const endpoint = await need("webhooks");
      const queued: WebhookDeliveryMessage[] = [];
      const queue = {
        sendBatch: async (messages: Iterable<{ body: WebhookDeliveryMessage }>) => void queued.push(...[...messages].map((m) => m.body)),
      };
      const event: StoredEvent = {
        id: crypto.randomUUID(),
        tenantId: t.tenantId,
        type: "delivered",
        occurredAt: new Date(),
        messageId: crypto.randomUUID(),
        campaignId: null,
        email: "owner@example.test",
        url: null,
        data: {},
      };
      await withDb((db) =>
        db.transaction((tx) => dispatchWebhooks(tx, { ...env, WEBHOOKS_QUEUE: queue as unknown as Queue }, t.tenantId, [event])),
      );
      expect(queued).toHaveLength(1);
      const delivery = queued[0]!.delivery_id;
      expect((await send(`/v1/webhooks/${endpoint}/deliveries/${delivery}`, { token: t.apiKey })).status).toBe(200);
      return delivery;
    },
    read: (id) => `/v1/webhooks/${id("webhooks")}/deliveries/${id("deliveries")}`,
  },
};

/** One tenant's resources, each created the first time an operation needs it. */
export class TenantResources {
  private readonly ids = new Map<string, Promise<string>>();
  private readonly settled = new Map<string, string>();
  constructor(readonly tenant: TestTenant) {}

  need = (kind: string): Promise<string> => {
    const fixture = FIXTURES[kind];
    if (!fixture) throw new Error(`no fixture for the resource kind "${kind}": add one to FIXTURES in test/security/fixtures.ts`);
    let id = this.ids.get(kind);
    if (!id) {
      id = fixture.create(this.tenant, this.need).then((value) => {
        this.settled.set(kind, value);
        return value;
      });
      this.ids.set(kind, id);
    }
    return id;
  };

  /** The id of a kind already created (after `need`). */
  id = (kind: string): string => {
    const value = this.settled.get(kind);
    if (value === undefined) throw new Error(`${kind} was not created`);
    return value;
  };

  /** How the owner sees each of `kinds` now: status and body of each read. */
  async snapshot(kinds: string[]): Promise<Record<string, { status: number; body: unknown }>> {
    const out: Record<string, { status: number; body: unknown }> = {};
    for (const kind of kinds) {
      const res = await send(FIXTURES[kind]!.read(this.id), { token: this.tenant.apiKey });
      out[kind] = { status: res.status, body: await res.json() };
    }
    return out;
  }
}
