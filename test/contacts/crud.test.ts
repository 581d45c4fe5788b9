import { describe, expect, it } from "vitest";
import { call, expectProblem, newTenant } from "../helpers";
import { type ContactDto, createContact, listAll } from "./helpers";

describe("/v1/contacts", () => {
  it("creates a contact with a normalized email and defaults, then gets it", async () => {
    const { apiKey } = await newTenant();
    const created = await createContact(apiKey, { email: "  Ada.Lovelace@Example.COM ", name: "Ada" });
    expect(created).toMatchObject({ email: "ada.lovelace@example.com", name: "Ada", attributes: {}, status: "active" });
    const got = await call(`/v1/contacts/${created.id}`, { token: apiKey });
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(created);
    const full = await createContact(apiKey, {
      email: "b@example.com",
      attributes: { plan: "pro", seats: 3, tags: ["x"] },
      status: "unsubscribed",
    });
    expect(full).toMatchObject({ name: null, attributes: { plan: "pro", seats: 3, tags: ["x"] }, status: "unsubscribed" });
  });

  it("refuses a second contact with the same email, whatever its case (409)", async () => {
    const { apiKey } = await newTenant();
    await createContact(apiKey, { email: "dup@example.com" });
    const body = await expectProblem(
      await call("/v1/contacts", { method: "POST", token: apiKey, json: { email: "DUP@example.com" } }),
      409,
      "conflict",
    );
    expect(body.detail).toContain("dup@example.com");
  });

  it("lets two tenants hold the same email", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await createContact(a.apiKey, { email: "shared@example.com" });
    await createContact(b.apiKey, { email: "shared@example.com" });
  });

  it("validates each field and names it", async () => {
    const { apiKey } = await newTenant();
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i]));
    const cases: [Record<string, unknown>, string[]][] = [
      [{}, ["body.email"]],
      [{ email: "not-an-email" }, ["body.email"]],
      [{ email: "a@b.co", status: "deleted" }, ["body.status"]],
      [{ email: "a@b.co", attributes: many }, ["body.attributes"]],
      [{ email: "a@b.co", attributes: { blob: "x".repeat(16 * 1024) } }, ["body.attributes"]],
      [{ email: "a@b.co", attributes: ["x"] }, ["body.attributes"]],
      [{ email: "a@b.co", name: "" }, ["body.name"]],
      [{ email: "a@b.co", tenant_id: "x" }, ["body.tenant_id"]],
    ];
    for (const [json, fields] of cases) {
      const body = await expectProblem(await call("/v1/contacts", { method: "POST", token: apiKey, json }), 422, "validation_failed");
      expect(
        body.errors!.map((e) => e.field),
        JSON.stringify(json).slice(0, 60),
      ).toEqual(fields);
    }
  });

  it("rejects malformed JSON (400) and bodies that are not JSON (415)", async () => {
    const { apiKey } = await newTenant();
    await expectProblem(
      await call("/v1/contacts", { method: "POST", token: apiKey, headers: { "content-type": "application/json" }, body: '{"email":' }),
      400,
      "malformed_json",
    );
    await expectProblem(
      await call("/v1/contacts", { method: "POST", token: apiKey, headers: { "content-type": "text/csv" }, body: "email\na@b.co" }),
      415,
      "unsupported_media_type",
    );
  });

  it("lists newest first with cursor pagination, and filters by status and email", async () => {
    const { apiKey } = await newTenant();
    const made: ContactDto[] = [];
    for (let i = 0; i < 5; i++)
      made.push(await createContact(apiKey, { email: `p${i}@example.com`, status: i % 2 ? "bounced" : "active" }));
    const seen: string[] = [];
    let cursor: string | null = "";
    let pages = 0;
    while (cursor !== null) {
      const res = await call(`/v1/contacts?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: apiKey });
      const page = (await res.json()) as { data: ContactDto[]; next_cursor: string | null };
      seen.push(...page.data.map((c) => c.id));
      cursor = page.next_cursor;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(made.map((c) => c.id).reverse());
    expect((await listAll(apiKey, "&status=bounced")).map((c) => c.email)).toEqual(["p3@example.com", "p1@example.com"]);
    expect((await listAll(apiKey, "&email=%20P2@Example.com")).map((c) => c.id)).toEqual([made[2]!.id]);
    expect(await listAll(apiKey, "&email=nobody@example.com")).toEqual([]);
    const bad = await expectProblem(await call("/v1/contacts?status=gone&limit=0", { token: apiKey }), 422, "validation_failed");
    expect(bad.errors!.map((e) => e.field).sort()).toEqual(["query.limit", "query.status"]);
  });

  it("updates fields, replacing attributes whole, and bumps updated_at", async () => {
    const { apiKey } = await newTenant();
    const c = await createContact(apiKey, { email: "u@example.com", name: "U", attributes: { a: 1, b: 2 } });
    const res = await call(`/v1/contacts/${c.id}`, {
      method: "PATCH",
      token: apiKey,
      json: { attributes: { b: 3 }, status: "complained", name: null },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const updated = (await res.json()) as ContactDto;
    expect(updated).toMatchObject({ email: "u@example.com", name: null, attributes: { b: 3 }, status: "complained" });
    expect(Date.parse(updated.updated_at)).toBeGreaterThan(Date.parse(c.updated_at));
    const moved = (await (
      await call(`/v1/contacts/${c.id}`, { method: "PATCH", token: apiKey, json: { email: " NEW@example.com" } })
    ).json()) as ContactDto;
    expect(moved.email).toBe("new@example.com");
  });

  it("refuses an update to an email another contact has (409), and empty or invalid updates (422)", async () => {
    const { apiKey } = await newTenant();
    await createContact(apiKey, { email: "taken@example.com" });
    const c = await createContact(apiKey, { email: "me@example.com" });
    const patch = (json: unknown) => call(`/v1/contacts/${c.id}`, { method: "PATCH", token: apiKey, json });
    await expectProblem(await patch({ email: "Taken@example.com" }), 409, "conflict");
    expect((await expectProblem(await patch({}), 422, "validation_failed")).errors!.map((e) => e.field)).toEqual(["body"]);
    expect((await expectProblem(await patch({ email: "nope" }), 422, "validation_failed")).errors!.map((e) => e.field)).toEqual([
      "body.email",
    ]);
    const still = (await (await call(`/v1/contacts/${c.id}`, { token: apiKey })).json()) as ContactDto;
    expect(still.email).toBe("me@example.com");
  });

  it("deletes a contact", async () => {
    const { apiKey } = await newTenant();
    const c = await createContact(apiKey, { email: "gone@example.com" });
    const res = await call(`/v1/contacts/${c.id}`, { method: "DELETE", token: apiKey });
    expect(res.status).toBe(204);
    await expectProblem(await call(`/v1/contacts/${c.id}`, { token: apiKey }), 404, "not_found");
    await expectProblem(await call(`/v1/contacts/${c.id}`, { method: "DELETE", token: apiKey }), 404, "not_found");
    // The address is free again.
    await createContact(apiKey, { email: "gone@example.com" });
  });
});
