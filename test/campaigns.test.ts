import { describe, expect, it } from "vitest";
import { audience, campaign, getCampaign, launch, sinkProvider, tag, template, waitFor } from "./campaign-helpers";
import { call, expectProblem, newTenant } from "./helpers";

async function draft(apiKey: string, n = 3) {
  const t = tag();
  const a = await audience(apiKey, t, n);
  const id = await campaign(apiKey, { templateId: await template(apiKey), listIds: [a.listId], providerIds: [await sinkProvider(apiKey)] });
  return { id, t, a };
}

const post = (apiKey: string, id: string, action: string, json?: unknown) =>
  call(`/v1/campaigns/${id}/${action}`, { method: "POST", token: apiKey, json });

describe("/v1/campaigns resource", () => {
  it("creates, lists, gets, updates and deletes a draft", async () => {
    const { apiKey } = await newTenant();
    const { id } = await draft(apiKey);
    const got = await getCampaign(apiKey, id);
    expect(got).toMatchObject({ id, state: "draft" });
    const listed = (await (await call("/v1/campaigns?state=draft", { token: apiKey })).json()) as { data: { id: string }[] };
    expect(listed.data.map((c) => c.id)).toEqual([id]);
    const patched = await call(`/v1/campaigns/${id}`, { method: "PATCH", token: apiKey, json: { name: "renamed", data: { promo: "X" } } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ name: "renamed", data: { promo: "X" } });
    expect((await call(`/v1/campaigns/${id}`, { method: "DELETE", token: apiKey })).status).toBe(204);
    await expectProblem(await call(`/v1/campaigns/${id}`, { token: apiKey }), 404, "not_found");
  });

  it("validates references: another tenant's template, list or provider does not exist", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const other = await draft(b.apiKey);
    const bCampaign = await getCampaign(b.apiKey, other.id);
    const res = await call("/v1/campaigns", {
      method: "POST",
      token: a.apiKey,
      json: {
        name: "x",
        template_id: (bCampaign as unknown as { template_id: string }).template_id,
        list_ids: [other.a.listId],
        provider_ids: [crypto.randomUUID()],
        from: "a@b.test",
      },
    });
    const body = await expectProblem(res, 422, "validation_failed");
    expect(body.errors!.map((e) => e.field).sort()).toEqual(["body.list_ids.0", "body.provider_ids.0", "body.template_id"]);
  });

  it("rejects a from address with a header injection", async () => {
    const { apiKey } = await newTenant();
    const { id } = await draft(apiKey);
    const body = await expectProblem(
      await call(`/v1/campaigns/${id}`, { method: "PATCH", token: apiKey, json: { from: "a@b.test\r\nBcc: victim@x.test" } }),
      422,
      "validation_failed",
    );
    expect(body.errors!.map((e) => e.field)).toEqual(["body.from"]);
  });

  it("hides other tenants' campaigns from every route", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const { id } = await draft(b.apiKey);
    await expectProblem(await call(`/v1/campaigns/${id}`, { token: a.apiKey }), 404, "not_found");
    for (const action of ["launch", "pause", "resume", "cancel", "retry-failed"]) {
      await expectProblem(await post(a.apiKey, id, action), 404, "not_found");
    }
    await expectProblem(await call(`/v1/campaigns/${id}/progress`, { token: a.apiKey }), 404, "not_found");
    await expectProblem(await call(`/v1/campaigns/${id}/messages`, { token: a.apiKey }), 404, "not_found");
    await expectProblem(await call(`/v1/campaigns/${id}`, { method: "DELETE", token: a.apiKey }), 404, "not_found");
    expect((await getCampaign(b.apiKey, id)).state).toBe("draft");
  });

  it("needs campaigns scopes", async () => {
    const { apiKey } = await newTenant();
    const reader = (await (
      await call("/v1/api-keys", { method: "POST", token: apiKey, json: { name: "r", scopes: ["campaigns:read"] } })
    ).json()) as { key: string };
    const { id } = await draft(apiKey);
    expect((await call(`/v1/campaigns/${id}`, { token: reader.key })).status).toBe(200);
    await expectProblem(await post(reader.key, id, "launch"), 403, "forbidden");
    await expectProblem(await call("/v1/campaigns", { token: "hk_nope" }), 401, "unauthorized");
  });
});

describe("campaign state machine", () => {
  it("refuses illegal transitions with 409 naming the current state", async () => {
    const { apiKey } = await newTenant();
    const { id } = await draft(apiKey);
    for (const action of ["pause", "resume", "retry-failed"]) {
      const body = await expectProblem(await post(apiKey, id, action), 409, "conflict");
      expect(body.state).toBe("draft");
    }
    expect((await post(apiKey, id, "cancel")).status).toBe(200);
    for (const action of ["launch", "pause", "resume", "cancel"]) {
      const body = await expectProblem(await post(apiKey, id, action), 409, "conflict");
      expect(body.state).toBe("cancelled");
    }
    await expectProblem(await call(`/v1/campaigns/${id}`, { method: "PATCH", token: apiKey, json: { name: "x" } }), 409, "conflict");
  });

  it("draft → scheduled → sending → completed, and a running campaign cannot be edited or deleted", async () => {
    const { apiKey } = await newTenant();
    const { id } = await draft(apiKey, 5);
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = await post(apiKey, id, "schedule", { scheduled_at: at });
    expect(scheduled.status).toBe(200);
    expect(await scheduled.json()).toMatchObject({ state: "scheduled", scheduled_at: at });
    await expectProblem(await post(apiKey, id, "schedule", { scheduled_at: "2001-01-01T00:00:00Z" }), 422, "validation_failed");

    const launched = await launch(apiKey, id);
    expect(launched.status).toBe(202);
    expect(await launched.json()).toMatchObject({ id, state: "sending", total: 5 });
    await expectProblem(await launch(apiKey, id), 409, "conflict");
    const done = await waitFor(apiKey, id, (c) => c.state !== "sending");
    expect(done).toMatchObject({ state: "completed", counts: { total: 5, sent: 5, failed: 0, skipped: 0 } });
    await expectProblem(await call(`/v1/campaigns/${id}`, { method: "PATCH", token: apiKey, json: { name: "x" } }), 409, "conflict");
    await expectProblem(await post(apiKey, id, "retry-failed"), 409, "conflict");
    expect((await call(`/v1/campaigns/${id}`, { method: "DELETE", token: apiKey })).status).toBe(204);
  });

  it("launch answers 422 when the template was deleted", async () => {
    const { apiKey } = await newTenant();
    const { id } = await draft(apiKey);
    const c = (await getCampaign(apiKey, id)) as unknown as { template_id: string };
    expect((await call(`/v1/templates/${c.template_id}`, { method: "DELETE", token: apiKey })).status).toBeLessThan(300);
    await expectProblem(await launch(apiKey, id), 422, "validation_failed");
  });
});
