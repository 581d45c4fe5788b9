import { describe, expect, it } from "vitest";
import { call, expectProblem, newTenant } from "../helpers";
import { type ContactDto, createContact, importCsv, importJson, keyWith, listAll } from "./helpers";

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
