import { describe, expect, it } from "vitest";
import { call, expectProblem } from "./helpers";

describe("GET /health", () => {
  it("answers ok without touching any dependency", async () => {
    // A database URL that cannot work proves the route does no I/O.
    const res = await call("/health", { env: { DATABASE_URL: "postgres://nobody:x@127.0.0.1:1/none" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("keeps a sane inbound X-Request-Id and replaces a hostile one", async () => {
    const kept = await call("/health", { headers: { "x-request-id": "trace-abc-12345" } });
    expect(kept.headers.get("x-request-id")).toBe("trace-abc-12345");
    const replaced = await call("/health", { headers: { "x-request-id": "<script>alert(1)</script>" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("GET /ready", () => {
  it("is 200 when Postgres, KV, Durable Objects and queues answer", async () => {
    const res = await call("/ready");
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({
      status: "ready",
      checks: { postgres: "ok", kv: "ok", durable_objects: "ok", queues: "ok" },
    });
  });

  it("is 503 naming Postgres when the database is unreachable, without leaking the URL", async () => {
    const res = await call("/ready", { env: { DATABASE_URL: "postgres://herald:secretpw@127.0.0.1:1/herald" } });
    const body = await expectProblem(res, 503, "service_unavailable");
    expect(body.detail).toContain("postgres");
    expect(body.checks).toMatchObject({ postgres: "fail", kv: "ok" });
    expect(JSON.stringify(body)).not.toContain("secretpw");
  });
});
