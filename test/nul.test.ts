// PostgreSQL text cannot hold NUL: wherever it arrives, it is a 4xx naming the field, never a 500.
import { describe, expect, it } from "vitest";
import { call, expectProblem, newTenant } from "./helpers";

describe("NUL characters in input", () => {
  it("are refused by field in JSON bodies and queries, and in CSV imports", async () => {
    const { apiKey } = await newTenant();
    const cases: [string, RequestInit & { json?: unknown }, string][] = [
      ["/v1/contacts", { method: "POST", json: { email: "a@b.test", name: "x\u0000y" } }, "body.name"],
      ["/v1/contacts", { method: "POST", json: { email: "c@b.test", attributes: { plan: "x\u0000y" } } }, "body.attributes.plan"],
      ["/v1/lists", { method: "POST", json: { name: "x\u0000y" } }, "body.name"],
      ["/v1/templates", { method: "POST", json: { name: "t", subject: "s", html: "<p>x\u0000y</p>" } }, "body.html"],
      ["/v1/contacts/import", { method: "POST", json: [{ email: "d@b.test", name: "x\u0000y" }] }, "body.0.name"],
      ["/v1/contacts?email=a%00b", {}, "query.email"],
    ];
    for (const [path, opts, field] of cases) {
      const problem = await expectProblem(await call(path, { ...opts, token: apiKey }), 422, "validation_failed");
      expect(problem.errors?.map((e) => e.field)).toContain(field);
    }
    await expectProblem(
      await call("/v1/contacts/import", {
        method: "POST",
        token: apiKey,
        body: "email,name\ne@b.test,x\u0000y\n",
        headers: { "content-type": "text/csv" },
      }),
      400,
      "bad_request",
    );
  });
});
