import { describe, expect, it } from "vitest";
import { call, expectProblem, newTenant } from "./helpers";
import { expectNonUuidIdsNotFound, expectUnparsableBodiesRefused, keyWith } from "./request-helpers";

interface ListDto {
  id: string;
  name: string;
  description: string | null;
  member_count?: number;
  created_at: string;
}

interface AddResult {
  added: number;
  errors: { field: string; contact_id: string; message: string }[];
}

async function createList(token: string, body: Record<string, unknown>): Promise<ListDto> {
  const res = await call("/v1/lists", { method: "POST", token, json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as ListDto;
}

async function createContact(token: string, email: string): Promise<string> {
  const res = await call("/v1/contacts", { method: "POST", token, json: { email } });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function getList(token: string, id: string): Promise<ListDto> {
  const res = await call(`/v1/lists/${id}`, { token });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as ListDto;
}

async function addMembers(token: string, listId: string, contactIds: string[]): Promise<AddResult> {
  const res = await call(`/v1/lists/${listId}/members`, { method: "POST", token, json: { contact_ids: contactIds } });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as AddResult;
}

async function memberEmails(token: string, listId: string, limit = 100): Promise<string[]> {
  const emails: string[] = [];
  let cursor: string | null = "";
  while (cursor !== null) {
    const res = await call(`/v1/lists/${listId}/members?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, { token });
    expect(res.status, await res.clone().text()).toBe(200);
    const page = (await res.json()) as { data: { email: string }[]; next_cursor: string | null };
    emails.push(...page.data.map((c) => c.email));
    cursor = page.next_cursor;
  }
  return emails;
}

describe("/v1/lists", () => {
  it("creates a list and gets it with its member count", async () => {
    const { apiKey } = await newTenant();
    const created = await createList(apiKey, { name: " Newsletter ", description: "Monthly" });
    expect(created).toMatchObject({ name: "Newsletter", description: "Monthly", member_count: 0 });
    expect(await getList(apiKey, created.id)).toEqual(created);
    const bare = await createList(apiKey, { name: "Bare" });
    expect(bare.description).toBeNull();
  });

  it("refuses a duplicate name in the tenant (409), but not across tenants", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await createList(a.apiKey, { name: "VIP" });
    await expectProblem(await call("/v1/lists", { method: "POST", token: a.apiKey, json: { name: "VIP" } }), 409, "conflict");
    await createList(b.apiKey, { name: "VIP" });
  });

  it("validates the body, naming fields, and rejects malformed or non-JSON bodies", async () => {
    const { apiKey } = await newTenant();
    const cases: [unknown, string[]][] = [
      [{}, ["body.name"]],
      [{ name: "   " }, ["body.name"]],
      [{ name: "x".repeat(201) }, ["body.name"]],
      [{ name: "x", description: 5 }, ["body.description"]],
      [{ name: "x", members: [] }, ["body.members"]],
    ];
    for (const [json, fields] of cases) {
      const body = await expectProblem(await call("/v1/lists", { method: "POST", token: apiKey, json }), 422, "validation_failed");
      expect(body.errors!.map((e) => e.field)).toEqual(fields);
    }
    await expectUnparsableBodiesRefused("/v1/lists", apiKey);
  });

  it("lists newest first with cursor pagination", async () => {
    const { apiKey } = await newTenant();
    const made: string[] = [];
    for (let i = 0; i < 3; i++) made.push((await createList(apiKey, { name: `l${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const res = await call(`/v1/lists?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: apiKey });
      const page = (await res.json()) as { data: ListDto[]; next_cursor: string | null };
      seen.push(...page.data.map((l) => l.id));
      cursor = page.next_cursor;
    }
    expect(seen).toEqual([...made].reverse());
    await expectProblem(await call("/v1/lists?cursor=xyz", { token: apiKey }), 422, "validation_failed");
  });

  it("renames a list and changes or clears its description", async () => {
    const { apiKey } = await newTenant();
    const list = await createList(apiKey, { name: "Old", description: "d" });
    await createList(apiKey, { name: "Taken" });
    const patch = (json: unknown) => call(`/v1/lists/${list.id}`, { method: "PATCH", token: apiKey, json });
    const res = await patch({ name: "New", description: null });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: list.id, name: "New", description: null, member_count: 0 });
    await expectProblem(await patch({ name: "Taken" }), 409, "conflict");
    expect((await expectProblem(await patch({}), 422, "validation_failed")).errors!.map((e) => e.field)).toEqual(["body"]);
    expect((await getList(apiKey, list.id)).name).toBe("New");
  });

  it("deletes a list but keeps its contacts", async () => {
    const { apiKey } = await newTenant();
    const list = await createList(apiKey, { name: "Temp" });
    const contactId = await createContact(apiKey, "stay@example.com");
    await addMembers(apiKey, list.id, [contactId]);
    const res = await call(`/v1/lists/${list.id}`, { method: "DELETE", token: apiKey });
    expect(res.status).toBe(204);
    await expectProblem(await call(`/v1/lists/${list.id}`, { token: apiKey }), 404, "not_found");
    await expectProblem(await call(`/v1/lists/${list.id}`, { method: "DELETE", token: apiKey }), 404, "not_found");
    expect((await call(`/v1/contacts/${contactId}`, { token: apiKey })).status).toBe(200);
  });
});

describe("/v1/lists/{id}/members", () => {
  it("adds contacts, counts them, pages through them, and is idempotent", async () => {
    const { apiKey } = await newTenant();
    const list = await createList(apiKey, { name: "Members" });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createContact(apiKey, `m${i}@example.com`));
    expect(await addMembers(apiKey, list.id, ids.slice(0, 3))).toEqual({ added: 3, errors: [] });
    // Already-members and repeats are not errors and not counted twice.
    expect(await addMembers(apiKey, list.id, [ids[2]!, ids[3]!, ids[3]!.toUpperCase(), ids[4]!])).toEqual({ added: 2, errors: [] });
    expect((await getList(apiKey, list.id)).member_count).toBe(5);
    expect(await memberEmails(apiKey, list.id, 2)).toEqual([
      "m4@example.com",
      "m3@example.com",
      "m2@example.com",
      "m1@example.com",
      "m0@example.com",
    ]);
  });

  it("reports ids that are not the tenant's contacts, and adds the rest", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const list = await createList(a.apiKey, { name: "Mixed" });
    const mine = await createContact(a.apiKey, "mine@example.com");
    const theirs = await createContact(b.apiKey, "theirs@example.com");
    const missing = "00000000-0000-7000-8000-000000000000";
    const result = await addMembers(a.apiKey, list.id, [theirs, mine, "nope", missing]);
    expect(result.added).toBe(1);
    expect(result.errors).toEqual([
      { field: "body.contact_ids.0", contact_id: theirs, message: "no such contact" },
      { field: "body.contact_ids.2", contact_id: "nope", message: "no such contact" },
      { field: "body.contact_ids.3", contact_id: missing, message: "no such contact" },
    ]);
    expect(await memberEmails(a.apiKey, list.id)).toEqual(["mine@example.com"]);
  });

  it("validates the contact_ids array", async () => {
    const { apiKey } = await newTenant();
    const list = await createList(apiKey, { name: "V" });
    const post = (json: unknown) => call(`/v1/lists/${list.id}/members`, { method: "POST", token: apiKey, json });
    const tooMany = Array.from({ length: 1001 }, () => "00000000-0000-7000-8000-000000000000");
    for (const json of [{}, { contact_ids: [] }, { contact_ids: "x" }, { contact_ids: tooMany }, { contact_ids: [1] }]) {
      const body = await expectProblem(await post(json), 422, "validation_failed");
      expect(body.errors!.every((e) => e.field.startsWith("body.contact_ids"))).toBe(true);
    }
    await expectProblem(
      await call(`/v1/lists/${list.id}/members`, {
        method: "POST",
        token: apiKey,
        headers: { "content-type": "application/json" },
        body: "[",
      }),
      400,
      "malformed_json",
    );
  });

  it("removes a member; the contact stays, and removing again is 404", async () => {
    const { apiKey } = await newTenant();
    const list = await createList(apiKey, { name: "R" });
    const id = await createContact(apiKey, "r@example.com");
    await addMembers(apiKey, list.id, [id]);
    const res = await call(`/v1/lists/${list.id}/members/${id}`, { method: "DELETE", token: apiKey });
    expect(res.status).toBe(204);
    expect((await getList(apiKey, list.id)).member_count).toBe(0);
    expect((await call(`/v1/contacts/${id}`, { token: apiKey })).status).toBe(200);
    await expectProblem(await call(`/v1/lists/${list.id}/members/${id}`, { method: "DELETE", token: apiKey }), 404, "not_found");
    await expectProblem(await call(`/v1/lists/${list.id}/members/not-a-uuid`, { method: "DELETE", token: apiKey }), 404, "not_found");
  });

  it("drops a deleted contact from its lists", async () => {
    const { apiKey } = await newTenant();
    const list = await createList(apiKey, { name: "D" });
    const keep = await createContact(apiKey, "keep@example.com");
    const drop = await createContact(apiKey, "drop@example.com");
    await addMembers(apiKey, list.id, [keep, drop]);
    expect((await call(`/v1/contacts/${drop}`, { method: "DELETE", token: apiKey })).status).toBe(204);
    expect(await memberEmails(apiKey, list.id)).toEqual(["keep@example.com"]);
    expect((await getList(apiKey, list.id)).member_count).toBe(1);
  });
});

describe("/v1/lists security", () => {
  it("requires a credential", async () => {
    await expectProblem(await call("/v1/lists"), 401, "unauthorized");
    await expectProblem(await call("/v1/lists", { method: "POST", json: { name: "x" } }), 401, "unauthorized");
  });

  it("enforces contacts:read and contacts:write", async () => {
    const { apiKey } = await newTenant();
    const list = await createList(apiKey, { name: "S" });
    const contactId = await createContact(apiKey, "s@example.com");
    const reader = await keyWith(apiKey, ["contacts:read"]);
    const unrelated = await keyWith(apiKey, ["templates:write"]);
    expect((await call("/v1/lists", { token: reader })).status).toBe(200);
    expect((await call(`/v1/lists/${list.id}`, { token: reader })).status).toBe(200);
    expect((await call(`/v1/lists/${list.id}/members`, { token: reader })).status).toBe(200);
    await expectProblem(await call("/v1/lists", { method: "POST", token: reader, json: { name: "x" } }), 403, "forbidden");
    await expectProblem(await call(`/v1/lists/${list.id}`, { method: "PATCH", token: reader, json: { name: "x" } }), 403, "forbidden");
    await expectProblem(await call(`/v1/lists/${list.id}`, { method: "DELETE", token: reader }), 403, "forbidden");
    await expectProblem(
      await call(`/v1/lists/${list.id}/members`, { method: "POST", token: reader, json: { contact_ids: [contactId] } }),
      403,
      "forbidden",
    );
    await expectProblem(await call(`/v1/lists/${list.id}/members/${contactId}`, { method: "DELETE", token: reader }), 403, "forbidden");
    await expectProblem(await call("/v1/lists", { token: unrelated }), 403, "forbidden");
    await expectProblem(await call(`/v1/lists/${list.id}/members`, { token: unrelated }), 403, "forbidden");
  });

  it("hides other tenants' lists and members on every route", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const theirs = await createList(b.apiKey, { name: "Theirs" });
    const theirContact = await createContact(b.apiKey, "tc@example.com");
    await addMembers(b.apiKey, theirs.id, [theirContact]);
    const myContact = await createContact(a.apiKey, "mc@example.com");
    const url = `/v1/lists/${theirs.id}`;
    await expectProblem(await call(url, { token: a.apiKey }), 404, "not_found");
    await expectProblem(await call(url, { method: "PATCH", token: a.apiKey, json: { name: "Mine" } }), 404, "not_found");
    await expectProblem(await call(url, { method: "DELETE", token: a.apiKey }), 404, "not_found");
    await expectProblem(await call(`${url}/members`, { token: a.apiKey }), 404, "not_found");
    await expectProblem(
      await call(`${url}/members`, { method: "POST", token: a.apiKey, json: { contact_ids: [myContact] } }),
      404,
      "not_found",
    );
    await expectProblem(await call(`${url}/members/${theirContact}`, { method: "DELETE", token: a.apiKey }), 404, "not_found");
    const mine = (await (await call("/v1/lists", { token: a.apiKey })).json()) as { data: ListDto[] };
    expect(mine.data).toEqual([]);
    expect(await getList(b.apiKey, theirs.id)).toMatchObject({ name: "Theirs", member_count: 1 });
    expect(await memberEmails(b.apiKey, theirs.id)).toEqual(["tc@example.com"]);
  });

  it("answers 404 for ids that are not UUIDs", async () => {
    const { apiKey } = await newTenant();
    await expectNonUuidIdsNotFound("/v1/lists", apiKey, (url) => [
      [`${url}/members`, {}],
      [`${url}/members`, { method: "POST", json: { contact_ids: ["x"] } }],
    ]);
  });
});
