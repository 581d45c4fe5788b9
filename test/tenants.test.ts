import { describe, expect, it } from "vitest";
import { ADMIN_SECRET, call, expectProblem } from "./helpers";

// Wrong admin secrets count hard against the caller's address (the signup limits); the tests that
// send them use an address of their own so the rest of the suite keeps provisioning tenants.
const ownIp = () => ({ "cf-connecting-ip": `192.0.2.${Math.floor(Math.random() * 250) + 1}-${crypto.randomUUID().slice(0, 8)}` });

describe("POST /v1/tenants", () => {
  it("creates a tenant, its owner and a first key that works at once", async () => {
    const res = await call("/v1/tenants", {
      method: "POST",
      token: ADMIN_SECRET,
      json: { name: "Acme", plan: "pro", owner: { email: "Ops@Acme.test", name: "Ops" } },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as {
      tenant: { id: string; name: string; plan: string };
      api_key: { key: string; scopes: string[]; prefix: string };
      owner: { email: string; role: string };
    };
    expect(body.tenant).toMatchObject({ name: "Acme", plan: "pro" });
    expect(body.owner).toMatchObject({ email: "ops@acme.test", role: "owner" });
    expect(body.api_key.key).toMatch(/^hk_[0-9A-Za-z]{43}$/);
    expect(body.api_key.key.startsWith(body.api_key.prefix)).toBe(true);
    expect(body.api_key.scopes).toEqual(["*"]);

    const list = await call("/v1/api-keys", { token: body.api_key.key });
    expect(list.status).toBe(200);
  });

  it("refuses callers without the admin secret", async () => {
    const headers = ownIp();
    await expectProblem(await call("/v1/tenants", { method: "POST", headers, json: { name: "x" } }), 401, "unauthorized");
    await expectProblem(
      await call("/v1/tenants", { method: "POST", headers, token: "not-the-secret", json: { name: "x" } }),
      401,
      "unauthorized",
    );
  });

  it("refuses a tenant API key: provisioning is for the operator only", async () => {
    const created = await call("/v1/tenants", { method: "POST", token: ADMIN_SECRET, json: { name: "t" } });
    const { api_key } = (await created.json()) as { api_key: { key: string } };
    await expectProblem(
      await call("/v1/tenants", { method: "POST", headers: ownIp(), token: api_key.key, json: { name: "x" } }),
      401,
      "unauthorized",
    );
  });

  it("is disabled when ADMIN_SECRET is unset", async () => {
    const res = await call("/v1/tenants", { method: "POST", token: "", json: { name: "x" }, env: { ADMIN_SECRET: "" } });
    await expectProblem(res, 403, "forbidden");
  });

  it("validates the body", async () => {
    const res = await call("/v1/tenants", {
      method: "POST",
      token: ADMIN_SECRET,
      json: { name: " ", plan: "platinum", owner: { email: "not-an-email" } },
    });
    const body = await expectProblem(res, 422, "validation_failed");
    expect(body.errors!.map((e) => e.field).sort()).toEqual(["body.name", "body.owner.email", "body.plan"]);
  });
});
