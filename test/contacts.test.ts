import { describe, expect, it } from "vitest";
import { CsvSyntaxError, CsvTooManyRecords, parseCsv } from "../src/lib/csv";
import { call, expectProblem, newTenant } from "./helpers";

interface ContactDto {
  id: string;
  email: string;
  name: string | null;
  attributes: Record<string, unknown>;
  status: string;
  created_at: string;
  updated_at: string;
}

interface ImportResult {
  created: number;
  updated: number;
  errors: { row: number; field: string; message: string }[];
}

async function keyWith(token: string, scopes: string[]): Promise<string> {
  const res = await call("/v1/api-keys", { method: "POST", token, json: { name: scopes.join(" "), scopes } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { key: string }).key;
}

async function createContact(token: string, body: Record<string, unknown>): Promise<ContactDto> {
  const res = await call("/v1/contacts", { method: "POST", token, json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as ContactDto;
}

async function listAll(token: string, query = ""): Promise<ContactDto[]> {
  const res = await call(`/v1/contacts?limit=100${query}`, { token });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { data: ContactDto[] }).data;
}

async function importJson(token: string, rows: unknown, query = ""): Promise<Response> {
  return call(`/v1/contacts/import${query}`, { method: "POST", token, json: rows });
}

async function importCsv(token: string, csv: string, query = ""): Promise<Response> {
  return call(`/v1/contacts/import${query}`, { method: "POST", token, headers: { "content-type": "text/csv" }, body: csv });
}

async function imported(res: Response): Promise<ImportResult> {
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as ImportResult;
}

async function createList(token: string, name: string): Promise<string> {
  const res = await call("/v1/lists", { method: "POST", token, json: { name } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

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

describe("/v1/contacts security", () => {
  it("requires a credential on every route", async () => {
    await expectProblem(await call("/v1/contacts"), 401, "unauthorized");
    await expectProblem(await call("/v1/contacts", { method: "POST", json: { email: "a@b.co" } }), 401, "unauthorized");
    await expectProblem(await call("/v1/contacts/import", { method: "POST", json: [] }), 401, "unauthorized");
  });

  it("enforces contacts:read and contacts:write", async () => {
    const { apiKey } = await newTenant();
    const c = await createContact(apiKey, { email: "s@example.com" });
    const reader = await keyWith(apiKey, ["contacts:read"]);
    const unrelated = await keyWith(apiKey, ["templates:write"]);
    expect((await call("/v1/contacts", { token: reader })).status).toBe(200);
    expect((await call(`/v1/contacts/${c.id}`, { token: reader })).status).toBe(200);
    await expectProblem(await call("/v1/contacts", { method: "POST", token: reader, json: { email: "x@example.com" } }), 403, "forbidden");
    await expectProblem(await call(`/v1/contacts/${c.id}`, { method: "PATCH", token: reader, json: { name: "x" } }), 403, "forbidden");
    await expectProblem(await call(`/v1/contacts/${c.id}`, { method: "DELETE", token: reader }), 403, "forbidden");
    await expectProblem(await importJson(reader, [{ email: "x@example.com" }]), 403, "forbidden");
    await expectProblem(await importCsv(reader, "email\nx@example.com\n"), 403, "forbidden");
    await expectProblem(await call("/v1/contacts", { token: unrelated }), 403, "forbidden");
    expect(await listAll(apiKey)).toHaveLength(1);
  });

  it("hides other tenants' contacts on every route", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const theirs = await createContact(b.apiKey, { email: "theirs@example.com", name: "B" });
    const url = `/v1/contacts/${theirs.id}`;
    await expectProblem(await call(url, { token: a.apiKey }), 404, "not_found");
    await expectProblem(await call(url, { method: "PATCH", token: a.apiKey, json: { name: "A" } }), 404, "not_found");
    await expectProblem(await call(url, { method: "DELETE", token: a.apiKey }), 404, "not_found");
    expect(await listAll(a.apiKey)).toEqual([]);
    expect(await listAll(a.apiKey, "&email=theirs@example.com")).toEqual([]);
    const still = (await (await call(url, { token: b.apiKey })).json()) as ContactDto;
    expect(still.name).toBe("B");
  });

  it("answers 404 for ids that are not UUIDs", async () => {
    const { apiKey } = await newTenant();
    for (const id of ["123", "' or 1=1 --", "00000000-0000-0000-0000-00000000000g"]) {
      const url = `/v1/contacts/${encodeURIComponent(id)}`;
      await expectProblem(await call(url, { token: apiKey }), 404, "not_found");
      await expectProblem(await call(url, { method: "PATCH", token: apiKey, json: { name: "x" } }), 404, "not_found");
      await expectProblem(await call(url, { method: "DELETE", token: apiKey }), 404, "not_found");
    }
  });
});

describe("POST /v1/contacts/import (JSON)", () => {
  it("creates new contacts and updates existing ones, reporting invalid rows", async () => {
    const { apiKey } = await newTenant();
    const existing = await createContact(apiKey, { email: "old@example.com", name: "Old", attributes: { keep: 1 }, status: "bounced" });
    const result = await imported(
      await importJson(apiKey, [
        { email: "New@Example.com", name: "New", attributes: { plan: "pro" } },
        { email: "not-an-email" },
        { email: "old@example.com", name: "Renamed" },
        { email: "x@example.com", status: "nope" },
        "just a string",
        { email: "y@example.com", extra: 1 },
        { email: "z@example.com", status: "unsubscribed" },
      ]),
    );
    expect(result.created).toBe(2);
    expect(result.updated).toBe(1);
    expect(result.errors.map((e) => [e.row, e.field])).toEqual([
      [2, "email"],
      [4, "status"],
      [5, "row"],
      [6, "extra"],
    ]);
    expect(result.errors.every((e) => e.message.length > 0)).toBe(true);

    const all = await listAll(apiKey);
    expect(all.map((c) => c.email).sort()).toEqual(["new@example.com", "old@example.com", "z@example.com"]);
    // Fields the row left out keep their stored values.
    const old = all.find((c) => c.id === existing.id)!;
    expect(old).toMatchObject({ name: "Renamed", attributes: { keep: 1 }, status: "bounced" });
    expect(all.find((c) => c.email === "new@example.com")).toMatchObject({ name: "New", attributes: { plan: "pro" }, status: "active" });
    expect(all.find((c) => c.email === "z@example.com")!.status).toBe("unsubscribed");
  });

  it("replaces attributes and status when a row gives them", async () => {
    const { apiKey } = await newTenant();
    const c = await createContact(apiKey, { email: "r@example.com", name: "R", attributes: { a: 1 } });
    const result = await imported(
      await importJson(apiKey, [{ email: "r@example.com", attributes: { b: 2 }, status: "complained", name: null }]),
    );
    expect(result).toEqual({ created: 0, updated: 1, errors: [] });
    const got = (await (await call(`/v1/contacts/${c.id}`, { token: apiKey })).json()) as ContactDto;
    expect(got).toMatchObject({ name: "R", attributes: { b: 2 }, status: "complained" });
    expect(Date.parse(got.updated_at)).toBeGreaterThan(Date.parse(c.updated_at));
  });

  it("keeps the last of several rows for one address and reports the earlier ones", async () => {
    const { apiKey } = await newTenant();
    const result = await imported(
      await importJson(apiKey, [
        { email: "d@example.com", name: "first" },
        { email: "other@example.com" },
        { email: "D@example.com", name: "second" },
      ]),
    );
    expect(result.created).toBe(2);
    expect(result.errors).toEqual([{ row: 1, field: "email", message: expect.stringContaining("row 3") }]);
    expect((await listAll(apiKey, "&email=d@example.com"))[0]!.name).toBe("second");
  });

  it("adds every imported contact to ?list_id, new and existing alike", async () => {
    const { apiKey } = await newTenant();
    const listId = await createList(apiKey, "imported");
    await createContact(apiKey, { email: "before@example.com" });
    const result = await imported(
      await importJson(apiKey, [{ email: "before@example.com" }, { email: "fresh@example.com" }, { email: "bad" }], `?list_id=${listId}`),
    );
    expect(result).toMatchObject({ created: 1, updated: 1 });
    const members = (await (await call(`/v1/lists/${listId}/members`, { token: apiKey })).json()) as { data: ContactDto[] };
    expect(members.data.map((c) => c.email).sort()).toEqual(["before@example.com", "fresh@example.com"]);
    // Importing again leaves the membership as it is.
    await imported(await importJson(apiKey, [{ email: "fresh@example.com" }], `?list_id=${listId}`));
    const list = (await (await call(`/v1/lists/${listId}`, { token: apiKey })).json()) as { member_count: number };
    expect(list.member_count).toBe(2);
  });

  it("answers 404 for a list_id that is not the tenant's, writing nothing", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const theirs = await createList(b.apiKey, "theirs");
    for (const listId of [theirs, "not-a-uuid", "00000000-0000-7000-8000-000000000000"]) {
      await expectProblem(await importJson(a.apiKey, [{ email: "x@example.com" }], `?list_id=${listId}`), 404, "not_found");
    }
    expect(await listAll(a.apiKey)).toEqual([]);
  });

  it("scopes the upsert to the tenant: another tenant's contact with the same email is untouched", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const theirs = await createContact(b.apiKey, { email: "same@example.com", name: "B's" });
    expect(await imported(await importJson(a.apiKey, [{ email: "same@example.com", name: "A's" }]))).toMatchObject({
      created: 1,
      updated: 0,
    });
    const still = (await (await call(`/v1/contacts/${theirs.id}`, { token: b.apiKey })).json()) as ContactDto;
    expect(still.name).toBe("B's");
  });

  it("rejects bodies that are not an array of contacts, malformed JSON, and other media types", async () => {
    const { apiKey } = await newTenant();
    const notArray = await expectProblem(await importJson(apiKey, { email: "a@b.co" }), 422, "validation_failed");
    expect(notArray.errors!.map((e) => e.field)).toEqual(["body"]);
    await expectProblem(
      await call("/v1/contacts/import", { method: "POST", token: apiKey, headers: { "content-type": "application/json" }, body: "[{" }),
      400,
      "malformed_json",
    );
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "text/tab-separated-values"]) {
      await expectProblem(
        await call("/v1/contacts/import", { method: "POST", token: apiKey, headers: { "content-type": type }, body: "email\na@b.co" }),
        415,
        "unsupported_media_type",
      );
    }
    await expectProblem(await call("/v1/contacts/import", { method: "POST", token: apiKey }), 415, "unsupported_media_type");
    await expectProblem(
      await call("/v1/contacts/import", {
        method: "POST",
        token: apiKey,
        headers: { "content-type": "application/vnd.api+json" },
        body: "[]",
      }),
      415,
      "unsupported_media_type",
    );
    expect(await imported(await importJson(apiKey, []))).toEqual({ created: 0, updated: 0, errors: [] });
  });

  it("refuses more than 10,000 rows with 413, writing nothing", async () => {
    const { apiKey } = await newTenant();
    const rows = Array.from({ length: 10_001 }, (_, i) => ({ email: `r${i}@x.co` }));
    const body = await expectProblem(await importJson(apiKey, rows), 413, "payload_too_large");
    expect(body.detail).toContain("10000");
    expect(await listAll(apiKey)).toEqual([]);
  });
});

describe("POST /v1/contacts/import (CSV)", () => {
  it("maps email, name and status columns, and makes every other column an attribute", async () => {
    const { apiKey } = await newTenant();
    const csv = [
      "\uFEFFEmail, Name ,STATUS,plan,company.name",
      "ada@example.com,Ada,active,pro,Analytical Engines",
      '"bob@example.com","Bob ""The Builder"" Smith",unsubscribed,"free, for now","Line one',
      'line two"',
      "",
      "carol@example.com,,,enterprise,",
    ].join("\r\n");
    const result = await imported(await importCsv(apiKey, csv));
    expect(result).toEqual({ created: 3, updated: 0, errors: [] });
    const all = await listAll(apiKey);
    const by = (email: string) => all.find((c) => c.email === email)!;
    expect(by("ada@example.com")).toMatchObject({
      name: "Ada",
      status: "active",
      attributes: { plan: "pro", "company.name": "Analytical Engines" },
    });
    expect(by("bob@example.com")).toMatchObject({
      name: 'Bob "The Builder" Smith',
      status: "unsubscribed",
      attributes: { plan: "free, for now", "company.name": "Line one\r\nline two" },
    });
    // Empty cells give no value: name stays null, status defaults, the empty attribute is left out.
    expect(by("carol@example.com")).toMatchObject({ name: null, status: "active", attributes: { plan: "enterprise" } });
  });

  it("updates existing contacts, keeping what empty cells leave out, and reports bad rows by data row", async () => {
    const { apiKey } = await newTenant();
    const c = await createContact(apiKey, { email: "keep@example.com", name: "Kept", status: "bounced", attributes: { old: "x" } });
    const csv =
      "email,name,status,city\nkeep@example.com,,,Paris\nnope,A,active,\nok@example.com,B,weird,\nshort@example.com,C\n\nlast@example.com,D,Active,Rome\n";
    const result = await imported(await importCsv(apiKey, csv, ""));
    expect(result.created).toBe(1);
    expect(result.updated).toBe(1);
    expect(result.errors.map((e) => [e.row, e.field])).toEqual([
      [2, "email"],
      [3, "status"],
      [4, "row"],
    ]);
    expect(result.errors[2]!.message).toMatch(/2 fields.*4/);
    const got = (await (await call(`/v1/contacts/${c.id}`, { token: apiKey })).json()) as ContactDto;
    expect(got).toMatchObject({ name: "Kept", status: "bounced" });
    expect(got.attributes).toEqual({ city: "Paris" });
    expect((await listAll(apiKey, "&email=last@example.com"))[0]).toMatchObject({ status: "active", attributes: { city: "Rome" } });
  });

  it("leaves attributes alone when the CSV has no attribute columns", async () => {
    const { apiKey } = await newTenant();
    const c = await createContact(apiKey, { email: "a@example.com", attributes: { plan: "pro" } });
    expect(await imported(await importCsv(apiKey, "email,name\na@example.com,Ann\n"))).toMatchObject({ updated: 1 });
    const got = (await (await call(`/v1/contacts/${c.id}`, { token: apiKey })).json()) as ContactDto;
    expect(got).toMatchObject({ name: "Ann", attributes: { plan: "pro" } });
  });

  it("accepts text/csv with a charset and ?list_id", async () => {
    const { apiKey } = await newTenant();
    const listId = await createList(apiKey, "csv");
    const res = await call(`/v1/contacts/import?list_id=${listId}`, {
      method: "POST",
      token: apiKey,
      headers: { "content-type": "text/csv; charset=utf-8" },
      body: "email\nzoë@example.com\nmax@example.com",
    });
    const result = await imported(res);
    expect(result.created).toBe(1);
    expect(result.errors.map((e) => e.row)).toEqual([1]);
    const list = (await (await call(`/v1/lists/${listId}`, { token: apiKey })).json()) as { member_count: number };
    expect(list.member_count).toBe(1);
  });

  it("refuses a CSV whose header is unusable (422) or that cannot be read (400)", async () => {
    const { apiKey } = await newTenant();
    for (const [csv, message] of [
      ["", /no header/],
      ["name,plan\nAda,pro\n", /email column/],
      ["email,plan,plan\na@b.co,x,y\n", /appears twice/],
      ["email,,plan\na@b.co,x,y\n", /no name/],
    ] as const) {
      const body = await expectProblem(await importCsv(apiKey, csv), 422, "validation_failed");
      expect(body.errors).toEqual([{ field: "body", message: expect.stringMatching(message) }]);
    }
    const unclosed = await expectProblem(await importCsv(apiKey, 'email,name\na@b.co,"Ada\nb@b.co,Bob\n'), 400, "bad_request");
    expect(unclosed.detail).toMatch(/never closed.*line 2/);
    expect(await listAll(apiKey)).toEqual([]);
  });

  it("refuses more than 10,000 data rows with 413", async () => {
    const { apiKey } = await newTenant();
    const csv = `email\n${Array.from({ length: 10_001 }, (_, i) => `r${i}@x.co`).join("\n")}\n`;
    await expectProblem(await importCsv(apiKey, csv), 413, "payload_too_large");
    expect(await listAll(apiKey)).toEqual([]);
  });
});

/** The real app: its default 1 MiB limiter skips the import path, which applies its own 10 MiB. */
function callWithImportLimit(path: string, init: RequestInit): Promise<Response> {
  return call(path, init);
}

describe("POST /v1/contacts/import body limit", () => {
  it("takes 10,000 rows in a body over 1 MiB, in one request", async () => {
    const { apiKey } = await newTenant();
    const filler = "x".repeat(180);
    const csv = `email,name,note\n${Array.from({ length: 10_000 }, (_, i) => `user${i}@bulk.example.com,User ${i},${filler}`).join("\n")}\n`;
    expect(csv.length).toBeGreaterThan(2 * 1024 * 1024);
    const res = await callWithImportLimit("/v1/contacts/import", {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "text/csv" },
      body: csv,
    });
    expect(await imported(res)).toEqual({ created: 10_000, updated: 0, errors: [] });
    const again = await callWithImportLimit("/v1/contacts/import", {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "text/csv" },
      body: csv,
    });
    expect(await imported(again)).toEqual({ created: 0, updated: 10_000, errors: [] });
  });

  it("refuses a body over 10 MiB with 413", async () => {
    const { apiKey } = await newTenant();
    const res = await callWithImportLimit("/v1/contacts/import", {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "text/csv" },
      body: `email,blob\na@b.co,${"x".repeat(10 * 1024 * 1024)}\n`,
    });
    await expectProblem(res, 413, "payload_too_large");
  });

  it("keeps the 1 MiB default on the other contact routes", async () => {
    const { apiKey } = await newTenant();
    const res = await callWithImportLimit("/v1/contacts", {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ email: "a@b.co", name: "x".repeat(1024 * 1024) }),
    });
    await expectProblem(res, 413, "payload_too_large");
  });
});

describe("parseCsv", () => {
  it("parses quoted fields with commas, doubled quotes and line breaks", () => {
    expect(parseCsv('a,b,c\n1,"x, y","say ""hi"""\n2,"multi\nline",\n')).toEqual([
      ["a", "b", "c"],
      ["1", "x, y", 'say "hi"'],
      ["2", "multi\nline", ""],
    ]);
  });

  it("accepts CRLF, LF and CR line endings, a BOM, and a missing final line break", () => {
    expect(parseCsv("\uFEFFa,b\r\n1,2\r\n")).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
    expect(parseCsv("a,b\r1,2")).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
    expect(parseCsv("a\n\n\nb\n")).toEqual([["a"], ["b"]]);
    expect(parseCsv("")).toEqual([]);
    expect(parseCsv("a,")).toEqual([["a", ""]]);
    expect(parseCsv(',\n""')).toEqual([["", ""]]);
  });

  it("keeps a stray quote inside an unquoted field as text", () => {
    expect(parseCsv('size\n5" screen\n')).toEqual([["size"], ['5" screen']]);
  });

  it("reports a quote left open and text after a closing quote, with the line", () => {
    expect(() => parseCsv('a\n"open\nstill open')).toThrow(CsvSyntaxError);
    expect(() => parseCsv('a\n"open\nstill open')).toThrow(/line 2/);
    expect(() => parseCsv('a,b\n"x"y,2')).toThrow(/text follows a closing quote.*line 2/);
    expect(() => parseCsv('a\n"multi\nline"\n"x"y')).toThrow(/line 4/);
  });

  it("stops once more records than allowed are read", () => {
    expect(parseCsv("a\nb\nc", { maxRecords: 3 })).toHaveLength(3);
    expect(() => parseCsv("a\nb\nc\nd", { maxRecords: 3 })).toThrow(CsvTooManyRecords);
  });
});
