import { describe, expect, it } from "vitest";
import { call, expectProblem, newTenant } from "./helpers";

interface KeyDto {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  revoked_at: string | null;
  key?: string;
}

async function createKey(token: string, body: Record<string, unknown>) {
  const res = await call("/v1/api-keys", { method: "POST", token, json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as KeyDto & { key: string };
}

describe("/v1/api-keys", () => {
  it("creates a key shown once, then lists and gets it without the secret", async () => {
    const { apiKey } = await newTenant();
    const created = await createKey(apiKey, { name: "ci", scopes: ["api_keys:read"] });
    expect(created.key).toMatch(/^hk_/);
    expect(created).toMatchObject({ name: "ci", scopes: ["api_keys:read"], revoked_at: null });

    const got = await call(`/v1/api-keys/${created.id}`, { token: apiKey });
    expect(got.status).toBe(200);
    const gotText = await got.text();
    expect(gotText).not.toContain(created.key);
    expect(JSON.parse(gotText)).not.toHaveProperty("key");

    const list = await call("/v1/api-keys", { token: apiKey });
    const listText = await list.text();
    expect(listText).not.toContain(created.key);
    expect(listText).not.toMatch(/key_hash|keyHash/);
    const { data } = JSON.parse(listText) as { data: KeyDto[] };
    expect(data.map((k) => k.id)).toContain(created.id);
  });

  it("paginates with an opaque cursor, newest first", async () => {
    const { apiKey, keyId } = await newTenant();
    const made: string[] = [];
    for (let i = 0; i < 4; i++) made.push((await createKey(apiKey, { name: `k${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = "";
    let pages = 0;
    while (cursor !== null) {
      const res = await call(`/v1/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: apiKey });
      const page = (await res.json()) as { data: KeyDto[]; next_cursor: string | null };
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((k) => k.id));
      cursor = page.next_cursor;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([...made].reverse().concat(keyId));
  });

  it("rejects a forged cursor as a validation error", async () => {
    const { apiKey } = await newTenant();
    const body = await expectProblem(await call("/v1/api-keys?cursor=not-a-cursor", { token: apiKey }), 422, "validation_failed");
    expect(body.errors).toEqual([{ field: "query.cursor", message: expect.any(String) }]);
  });

  it("revokes a key: it stops working, shows revoked_at, and revoking again is harmless", async () => {
    const { apiKey } = await newTenant();
    const created = await createKey(apiKey, { name: "temp" });
    expect((await call("/v1/api-keys", { token: created.key })).status).toBe(200);
    const revoked = await call(`/v1/api-keys/${created.id}`, { method: "DELETE", token: apiKey });
    expect(revoked.status).toBe(200);
    const body = (await revoked.json()) as KeyDto;
    expect(body.revoked_at).not.toBeNull();
    expect((await call("/v1/api-keys", { token: created.key })).status).toBe(401);
    const again = await call(`/v1/api-keys/${created.id}`, { method: "DELETE", token: apiKey });
    expect(((await again.json()) as KeyDto).revoked_at).toBe(body.revoked_at);
  });

  it("does not let a key grant scopes it lacks", async () => {
    const { apiKey } = await newTenant();
    const limited = await createKey(apiKey, { name: "limited", scopes: ["api_keys:write"] });
    await expectProblem(
      await call("/v1/api-keys", { method: "POST", token: limited.key, json: { name: "x", scopes: ["*"] } }),
      403,
      "forbidden",
    );
    // write implies read, so this much it may hand out
    expect(
      (await call("/v1/api-keys", { method: "POST", token: limited.key, json: { name: "y", scopes: ["api_keys:read"] } })).status,
    ).toBe(201);
  });

  it("enforces scopes on every route", async () => {
    const { apiKey } = await newTenant();
    const reader = await createKey(apiKey, { name: "reader", scopes: ["api_keys:read"] });
    const unrelated = await createKey(apiKey, { name: "campaigns", scopes: ["campaigns:read"] });
    expect((await call("/v1/api-keys", { token: reader.key })).status).toBe(200);
    await expectProblem(await call("/v1/api-keys", { method: "POST", token: reader.key, json: { name: "x" } }), 403, "forbidden");
    await expectProblem(await call(`/v1/api-keys/${reader.id}`, { method: "DELETE", token: reader.key }), 403, "forbidden");
    await expectProblem(await call("/v1/api-keys", { token: unrelated.key }), 403, "forbidden");
  });

  it("validates expires_at", async () => {
    const { apiKey } = await newTenant();
    const body = await expectProblem(
      await call("/v1/api-keys", { method: "POST", token: apiKey, json: { name: "x", expires_at: "2001-01-01T00:00:00Z" } }),
      422,
      "validation_failed",
    );
    expect(body.errors!.map((e) => e.field)).toEqual(["body.expires_at"]);
  });

  it("hides other tenants' keys: get, revoke and list all answer as if they did not exist", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await expectProblem(await call(`/v1/api-keys/${b.keyId}`, { token: a.apiKey }), 404, "not_found");
    await expectProblem(await call(`/v1/api-keys/${b.keyId}`, { method: "DELETE", token: a.apiKey }), 404, "not_found");
    expect((await call("/v1/api-keys", { token: b.apiKey })).status).toBe(200); // b's key untouched
    const { data } = (await (await call("/v1/api-keys", { token: a.apiKey })).json()) as { data: KeyDto[] };
    expect(data.map((k) => k.id)).not.toContain(b.keyId);
  });

  it("answers 404 for ids that are not UUIDs, never a database error", async () => {
    const { apiKey } = await newTenant();
    for (const id of ["123", "' or 1=1 --", "00000000-0000-0000-0000-00000000000g"]) {
      await expectProblem(await call(`/v1/api-keys/${encodeURIComponent(id)}`, { token: apiKey }), 404, "not_found");
    }
  });
});
