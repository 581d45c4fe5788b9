import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { DEFAULT_BODY_LIMIT_BYTES } from "../src/middleware/body-limit";
import { call, type CallOptions, expectProblem, newTenant } from "./helpers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";

describe("error responses", () => {
  it("an unknown route is a 404 problem", async () => {
    const body = await expectProblem(await call("/v1/nope"), 404, "not_found");
    expect(body.detail).toContain("/v1/nope");
    expect(body.instance).toBe("/v1/nope");
  });

  const refusedBodies: [name: string, request: CallOptions, status: number, code: string][] = [
    ["malformed JSON is 400", { headers: { "content-type": "application/json" }, body: '{"name": "x",' }, 400, "malformed_json"],
    ["a body that is not JSON is 415", { headers: { "content-type": "text/plain" }, body: "name=x" }, 415, "unsupported_media_type"],
    [
      "a body over the documented limit is 413, before it is parsed",
      { json: { name: "x".repeat(DEFAULT_BODY_LIMIT_BYTES + 10) } },
      413,
      "payload_too_large",
    ],
  ];
  for (const [name, request, status, code] of refusedBodies) {
    it(name, async () => {
      const { apiKey } = await newTenant();
      await expectProblem(await call("/v1/api-keys", { method: "POST", token: apiKey, ...request }), status, code);
    });
  }

  it("validation errors name every offending field", async () => {
    const { apiKey } = await newTenant();
    const res = await call("/v1/api-keys", {
      method: "POST",
      token: apiKey,
      json: { name: "", scopes: ["api_keys:read", "root"], extra: 1 },
    });
    const body = await expectProblem(res, 422, "validation_failed");
    const fields = body.errors!.map((e) => e.field);
    expect(fields).toContain("body.name");
    expect(fields).toContain("body.scopes.1");
    expect(body.errors!.every((e) => e.message.length > 0)).toBe(true);
  });

  it("bad query parameters are 422 naming the parameter", async () => {
    const { apiKey } = await newTenant();
    const body = await expectProblem(await call("/v1/api-keys?limit=1000", { token: apiKey }), 422, "validation_failed");
    expect(body.errors!.map((e) => e.field)).toEqual(["query.limit"]);
  });

  it("an unexpected error is a bare 500: no message, stack or secret", async () => {
    const app = createApp();
    app.get("/boom", () => {
      throw new Error(`select * from api_keys where key_hash = 'x' -- ${env.JWT_SECRET}`);
    });
    const ctx = createExecutionContext();
    const res = await app.request("/boom", {}, env, ctx);
    await waitOnExecutionContext(ctx);
    const body = await expectProblem(res, 500, "internal");
    const text = JSON.stringify(body);
    expect(text).not.toContain("select");
    expect(text).not.toContain(env.JWT_SECRET);
    expect(text).not.toContain("Error");
  });

  it("a database failure surfaces as 500 without SQL or the connection string", async () => {
    const { apiKey } = await newTenant();
    // Right server, wrong password: the driver's error carries details that must stay in the logs.
    const url = new URL(env.DATABASE_URL);
    url.password = "wrong-password-xyz";
    const res = await call("/v1/api-keys", { token: apiKey, env: { DATABASE_URL: url.toString() } });
    const body = await expectProblem(res, 500, "internal");
    const text = JSON.stringify(body);
    expect(text).not.toContain("wrong-password-xyz");
    expect(text).not.toMatch(/password|authentication|api_keys|select/i);
  });
});

describe("OpenAPI and docs", () => {
  it("serves an OpenAPI 3.1 document covering the v1 routes", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/health", "/ready", "/v1/tenants", "/v1/auth/token", "/v1/api-keys", "/v1/api-keys/{id}"]),
    );
    expect(Object.keys(doc.paths["/v1/api-keys/{id}"]!)).toEqual(expect.arrayContaining(["get", "delete"]));
  });

  it("serves a human docs page", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain("/v1/api-keys");
    expect(html).toContain("validation_failed");
  });
});
