import { describe, expect, it } from "vitest";
import { call, expectProblem, newTenant } from "../helpers";
import { type ContactDto, createContact, createList, importJson, imported, listAll } from "./helpers";

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
