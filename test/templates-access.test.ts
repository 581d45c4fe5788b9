// Who may reach templates: credentials, scopes, tenants, and ids that are not UUIDs.
import { describe, expect, it } from "vitest";
import { call, expectProblem, newTenant } from "./helpers";
import { expectNonUuidIdsNotFound, keyWith } from "./request-helpers";
import { createTemplate, type TemplateDto, WELCOME } from "./template-helpers";

describe("/v1/templates security", () => {
  it("requires a credential", async () => {
    const res = await call("/v1/templates");
    await expectProblem(res, 401, "unauthorized");
    await expectProblem(await call("/v1/templates", { method: "POST", json: WELCOME }), 401, "unauthorized");
  });

  it("enforces templates:read and templates:write", async () => {
    const { apiKey } = await newTenant();
    const t = await createTemplate(apiKey, WELCOME);
    const reader = await keyWith(apiKey, ["templates:read"]);
    const unrelated = await keyWith(apiKey, ["contacts:write"]);
    expect((await call("/v1/templates", { token: reader })).status).toBe(200);
    expect((await call(`/v1/templates/${t.id}`, { token: reader })).status).toBe(200);
    expect((await call(`/v1/templates/${t.id}/preview`, { method: "POST", token: reader })).status).toBe(200);
    await expectProblem(await call("/v1/templates", { method: "POST", token: reader, json: WELCOME }), 403, "forbidden");
    await expectProblem(await call(`/v1/templates/${t.id}`, { method: "PATCH", token: reader, json: { name: "x" } }), 403, "forbidden");
    await expectProblem(await call(`/v1/templates/${t.id}`, { method: "DELETE", token: reader }), 403, "forbidden");
    await expectProblem(await call("/v1/templates", { token: unrelated }), 403, "forbidden");
    await expectProblem(await call(`/v1/templates/${t.id}/preview`, { method: "POST", token: unrelated }), 403, "forbidden");
  });

  it("hides other tenants' templates on every route", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const theirs = await createTemplate(b.apiKey, WELCOME);
    const url = `/v1/templates/${theirs.id}`;
    await expectProblem(await call(url, { token: a.apiKey }), 404, "not_found");
    await expectProblem(await call(url, { method: "PATCH", token: a.apiKey, json: { name: "mine" } }), 404, "not_found");
    await expectProblem(await call(url, { method: "DELETE", token: a.apiKey }), 404, "not_found");
    await expectProblem(await call(`${url}/preview`, { method: "POST", token: a.apiKey }), 404, "not_found");
    const list = (await (await call("/v1/templates", { token: a.apiKey })).json()) as { data: TemplateDto[] };
    expect(list.data).toEqual([]);
    const still = (await (await call(url, { token: b.apiKey })).json()) as TemplateDto;
    expect(still).toMatchObject({ name: "welcome", version: 1 });
  });

  it("answers 404 for ids that are not UUIDs", async () => {
    const { apiKey } = await newTenant();
    await expectNonUuidIdsNotFound("/v1/templates", apiKey, (url) => [[`${url}/preview`, { method: "POST" }]]);
  });
});
