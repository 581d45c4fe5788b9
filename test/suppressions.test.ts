import { describe, expect, it } from "vitest";
import { suppress, unsuppress } from "../src/suppressions/store";
import { withDb, call, expectProblem, newTenant } from "./helpers";

interface SuppressionDto {
  email: string;
  reason: string;
  note: string | null;
  created_at: string;
}

const post = (token: string, json: unknown) => call("/v1/suppressions", { method: "POST", token, json });

async function created(res: Response, status = 201): Promise<SuppressionDto> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as SuppressionDto;
}

async function page(token: string, query = "") {
  const res = await call(`/v1/suppressions${query}`, { token });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as { data: SuppressionDto[]; next_cursor: string | null };
}

async function all(token: string, query: string, limit = 2): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 50; i++) {
    const sep = query ? "&" : "";
    const p = await page(token, `?limit=${limit}${sep}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    seen.push(...p.data.map((s) => s.email));
    if (!p.next_cursor) return seen;
    cursor = p.next_cursor;
  }
  throw new Error("pagination did not end");
}

async function createContact(token: string, email: string): Promise<string> {
  const res = await call("/v1/contacts", { method: "POST", token, json: { email } });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function contactStatus(token: string, id: string): Promise<string> {
  const res = await call(`/v1/contacts/${id}`, { token });
  expect(res.status).toBe(200);
  return ((await res.json()) as { status: string }).status;
}

describe("/v1/suppressions", () => {
  it("is in the OpenAPI document", async () => {
    const doc = (await (await call("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths["/v1/suppressions"] ?? {}).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/v1/suppressions/{email}"] ?? {}).sort()).toEqual(["delete", "get"]);
  });

  it("creates a suppression with a normalized address, manual by default, and is idempotent", async () => {
    const { apiKey } = await newTenant();
    const first = await created(await post(apiKey, { email: "  Ada.Lovelace+News@Example.COM ", note: "asked by phone" }));
    expect(first).toMatchObject({ email: "ada.lovelace+news@example.com", reason: "manual", note: "asked by phone" });
    expect(Date.parse(first.created_at)).not.toBeNaN();

    // The same address again, in another case and with another reason: 200 with the entry as it was.
    const again = await created(await post(apiKey, { email: "ADA.LOVELACE+news@example.com", reason: "bounce" }), 200);
    expect(again).toEqual(first);

    const got = await call(`/v1/suppressions/${encodeURIComponent("Ada.Lovelace+News@example.com")}`, { token: apiKey });
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(first);
  });

  it("validates the body, naming each field", async () => {
    const { apiKey } = await newTenant();
    const fields = async (json: unknown) =>
      ((await expectProblem(await post(apiKey, json), 422, "validation_failed")).errors ?? []).map((e) => e.field);
    expect(await fields({ email: "not an address" })).toEqual(["body.email"]);
    expect(await fields({})).toEqual(["body.email"]);
    expect(await fields({ email: "a@example.com", reason: "spam" })).toEqual(["body.reason"]);
    expect(await fields({ email: "a@example.com", note: "x".repeat(1001) })).toEqual(["body.note"]);
    expect(await fields({ email: "a@example.com", emial: "typo" })).toEqual(["body.emial"]);
    expect(await fields({ email: `${"a".repeat(320)}@example.com` })).toEqual(["body.email"]);
    await expectProblem(
      await call("/v1/suppressions", { method: "POST", token: apiKey, body: "{", headers: { "content-type": "application/json" } }),
      400,
      "malformed_json",
    );
  });

  it("gets and deletes by address; an absent one is a 404", async () => {
    const { apiKey } = await newTenant();
    await created(await post(apiKey, { email: "gone@example.com", reason: "unsubscribe" }));
    await expectProblem(await call("/v1/suppressions/nobody@example.com", { token: apiKey }), 404, "not_found");

    const del = await call("/v1/suppressions/GONE@example.com", { method: "DELETE", token: apiKey });
    expect(del.status).toBe(204);
    await expectProblem(await call("/v1/suppressions/gone@example.com", { token: apiKey }), 404, "not_found");
    await expectProblem(await call("/v1/suppressions/gone@example.com", { method: "DELETE", token: apiKey }), 404, "not_found");
    // Suppressing it again makes a new entry.
    await created(await post(apiKey, { email: "gone@example.com" }));
  });

  it("lists newest first or alphabetically with cursors, filtered by reason and address prefix", async () => {
    const { apiKey } = await newTenant();
    const entries = [
      { email: "carol@example.com", reason: "bounce" },
      { email: "alice@example.com", reason: "manual" },
      { email: "bob@example.com", reason: "complaint" },
      { email: "alan@example.org", reason: "bounce" },
      { email: "dave@example.com", reason: "unsubscribe" },
    ];
    for (const e of entries) await created(await post(apiKey, e));

    const newest = (await page(apiKey, "?limit=100")).data.map((s) => s.email);
    expect(newest).toEqual(entries.map((e) => e.email).reverse());
    expect(await all(apiKey, "")).toEqual(newest);
    expect(await all(apiKey, "order=email")).toEqual(entries.map((e) => e.email).sort());
    expect(await all(apiKey, "order=email&reason=bounce", 1)).toEqual(["alan@example.org", "carol@example.com"]);
    expect(await all(apiKey, "email=AL", 1)).toEqual(["alan@example.org", "alice@example.com"]);
    expect(await all(apiKey, "order=email&email=al", 1)).toEqual(["alan@example.org", "alice@example.com"]);
    expect((await page(apiKey, "?email=zed")).data).toEqual([]);

    const first = await page(apiKey, "?limit=2");
    expect(first.next_cursor).not.toBeNull();
    // A cursor belongs to its order, and a made-up one is refused.
    const wrongOrder = await call(`/v1/suppressions?order=email&cursor=${first.next_cursor}`, { token: apiKey });
    expect((await expectProblem(wrongOrder, 422, "validation_failed")).errors).toEqual([
      { field: "query.cursor", message: expect.any(String) },
    ]);
    await expectProblem(await call("/v1/suppressions?cursor=nonsense!", { token: apiKey }), 422, "validation_failed");
    const bad = await expectProblem(await call("/v1/suppressions?reason=spam&order=size", { token: apiKey }), 422, "validation_failed");
    expect(bad.errors!.map((e) => e.field).sort()).toEqual(["query.order", "query.reason"]);
  });

  it("pages by created_at without skipping entries that share a timestamp", async () => {
    const { apiKey, tenantId } = await newTenant();
    // One statement: every entry gets the same created_at.
    await withDb((db) =>
      suppress(
        db,
        tenantId,
        Array.from({ length: 7 }, (_, i) => ({ email: `same${i}@example.com`, reason: "manual" as const })),
      ),
    );
    const listed = await all(apiKey, "", 3);
    expect(listed).toEqual(Array.from({ length: 7 }, (_, i) => `same${i}@example.com`).reverse());
  });

  it("keeps tenants apart", async () => {
    const owner = await newTenant();
    const other = await newTenant();
    await created(await post(owner.apiKey, { email: "private@example.com", reason: "complaint" }));
    await expectProblem(await call("/v1/suppressions/private@example.com", { token: other.apiKey }), 404, "not_found");
    await expectProblem(await call("/v1/suppressions/private@example.com", { method: "DELETE", token: other.apiKey }), 404, "not_found");
    expect((await page(other.apiKey)).data).toEqual([]);
    // The other tenant may suppress the same address for itself.
    const theirs = await created(await post(other.apiKey, { email: "private@example.com" }));
    expect(theirs.reason).toBe("manual");
    expect((await created(await call("/v1/suppressions/private@example.com", { token: owner.apiKey }), 200)).reason).toBe("complaint");
  });

  it("needs suppressions:read to read and suppressions:write to change", async () => {
    const { apiKey } = await newTenant();
    const key = async (scopes: string[]) => {
      const res = await call("/v1/api-keys", { method: "POST", token: apiKey, json: { name: scopes.join(","), scopes } });
      expect(res.status).toBe(201);
      return ((await res.json()) as { key: string }).key;
    };
    const reader = await key(["suppressions:read"]);
    const stranger = await key(["contacts:read"]);
    await created(await post(apiKey, { email: "x@example.com" }));
    expect((await page(reader)).data).toHaveLength(1);
    await expectProblem(await post(reader, { email: "y@example.com" }), 403, "forbidden");
    await expectProblem(await call("/v1/suppressions/x@example.com", { method: "DELETE", token: reader }), 403, "forbidden");
    await expectProblem(await call("/v1/suppressions", { token: stranger }), 403, "forbidden");
    await expectProblem(await call("/v1/suppressions"), 401, "unauthorized");
  });

  it("marks the tenant's active contact for bounce, complaint and unsubscribe, but not for manual", async () => {
    const { apiKey } = await newTenant();
    const other = await newTenant();
    const unsub = await createContact(apiKey, "unsub@example.com");
    const manual = await createContact(apiKey, "manual@example.com");
    const theirs = await createContact(other.apiKey, "unsub@example.com");
    await created(await post(apiKey, { email: "UNSUB@example.com", reason: "unsubscribe" }));
    await created(await post(apiKey, { email: "manual@example.com" }));
    expect(await contactStatus(apiKey, unsub)).toBe("unsubscribed");
    expect(await contactStatus(apiKey, manual)).toBe("active");
    expect(await contactStatus(other.apiKey, theirs)).toBe("active");
  });
});

describe("suppress() and unsuppress()", () => {
  it("adds entries in one go, keeps existing ones, and moves only active contacts", async () => {
    const { apiKey, tenantId } = await newTenant();
    const other = await newTenant();
    const bounced = await createContact(apiKey, "b@example.com");
    const complained = await createContact(apiKey, "c@example.com");
    const manual = await createContact(apiKey, "m@example.com");
    const already = await createContact(apiKey, "u@example.com");
    const theirs = await createContact(other.apiKey, "b@example.com");
    await created(await post(apiKey, { email: "u@example.com", reason: "unsubscribe", note: "first" }));

    const result = await withDb((db) =>
      suppress(db, tenantId, [
        { email: " B@Example.com", reason: "bounce", note: "550 5.1.1" },
        { email: "b@example.com", reason: "complaint" }, // a repeat: the first entry wins
        { email: "c@example.com", reason: "complaint" },
        { email: "m@example.com", reason: "manual" },
        { email: "u@example.com", reason: "bounce", note: "later" },
        { email: "nocontact@example.com", reason: "unsubscribe" },
        { email: "   ", reason: "bounce" },
      ]),
    );
    expect(result).toEqual({ inserted: 4, contactsUpdated: 2 });

    expect(await contactStatus(apiKey, bounced)).toBe("bounced");
    expect(await contactStatus(apiKey, complained)).toBe("complained");
    expect(await contactStatus(apiKey, manual)).toBe("active");
    expect(await contactStatus(apiKey, already)).toBe("unsubscribed");
    expect(await contactStatus(other.apiKey, theirs)).toBe("active");

    const byEmail = Object.fromEntries((await page(apiKey, "?limit=100")).data.map((s) => [s.email, s]));
    expect(Object.keys(byEmail).sort()).toEqual([
      "b@example.com",
      "c@example.com",
      "m@example.com",
      "nocontact@example.com",
      "u@example.com",
    ]);
    expect(byEmail["b@example.com"]).toMatchObject({ reason: "bounce", note: "550 5.1.1" });
    expect(byEmail["u@example.com"]).toMatchObject({ reason: "unsubscribe", note: "first" });
    expect((await page(other.apiKey)).data).toEqual([]);

    expect(await withDb((db) => suppress(db, tenantId, []))).toEqual({ inserted: 0, contactsUpdated: 0 });
    expect(await withDb((db) => unsuppress(db, tenantId, "B@example.com"))).toBe(true);
    expect(await withDb((db) => unsuppress(db, tenantId, "b@example.com"))).toBe(false);
    expect(await withDb((db) => unsuppress(db, other.tenantId, "c@example.com"))).toBe(false);
    // Unsuppressing leaves the contact as it is.
    expect(await contactStatus(apiKey, bounced)).toBe("bounced");
  });
});
