import { describe, expect, it } from "vitest";
import { call, expectProblem, newTenant } from "../helpers";
import { type ContactDto, createContact, createList, importCsv, imported, listAll } from "./helpers";

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
