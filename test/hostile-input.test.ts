// Input that is hostile in shape rather than in value: bodies nested to blow a recursive walk, lone
// UTF-16 surrogates, and values that parse but contradict themselves. Each is a 4xx problem+json
// naming the field, never a 500.
import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../src/lib/json-guard";
import { call, expectProblem, newTenant } from "./helpers";

const deepArray = (n: number) => "[".repeat(n) + "]".repeat(n);
const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;

async function send(apiKey: string, path: string, body: string, method = "POST") {
  return call(path, { method, token: apiKey, headers: { "content-type": "application/json" }, body });
}

describe("deeply nested JSON", () => {
  it("is refused with 400 naming the body on every route that takes JSON, before anything walks it", async () => {
    const { apiKey } = await newTenant();
    const cases: [string, string, string?][] = [
      ["/v1/contacts/import", deepArray(10_000)],
      ["/v1/contacts/import", `[{"email":"a@b.test","attributes":${deepObject(10_000)}}]`],
      ["/v1/contacts", `{"email":"a@b.test","attributes":${deepObject(10_000)}}`],
      ["/v1/providers", `{"name":"x","kind":"sink","config":${deepObject(10_000)}}`],
      ["/v1/providers/0190b1b2-7c1e-7a3b-9f00-0123456789ab", `{"config":${deepObject(10_000)}}`, "PATCH"],
      ["/v1/emails/batch", deepArray(10_000)],
      ["/v1/emails", `{"from":"a@b.test","to":"c@d.test","subject":"s","text":"t","headers":${deepObject(10_000)}}`],
    ];
    for (const [path, body, method] of cases) {
      const problem = await expectProblem(await send(apiKey, path, body, method), 400, "bad_request");
      expect(problem.errors, path).toEqual([{ field: "body", message: expect.stringContaining(`${MAX_JSON_DEPTH} levels`) }]);
    }
  });

  it("is accepted up to the documented depth", async () => {
    const { apiKey } = await newTenant();
    // The attributes object is at depth 2, so its own nesting may go 30 more levels.
    const res = await send(apiKey, "/v1/contacts", `{"email":"deep@b.test","attributes":{"k":${deepObject(MAX_JSON_DEPTH - 3)}}}`);
    expect(res.status, await res.clone().text()).toBe(201);
    expect(nestsDeeperThan(deepArray(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(nestsDeeperThan(deepArray(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    // Brackets inside strings, escaped quotes included, are text, not nesting.
    expect(nestsDeeperThan(JSON.stringify({ s: `"${"[".repeat(100)}\\"{` }), 2)).toBe(false);
  });
});

describe("lone UTF-16 surrogates", () => {
  it("are refused with 422 naming the field, in values and in keys", async () => {
    const { apiKey } = await newTenant();
    const cases: [string, string, string][] = [
      ["/v1/contacts", '{"email":"s1@b.test","name":"\\ud800x"}', "body.name"],
      ["/v1/contacts", '{"email":"s2@b.test","attributes":{"k":"\\udc00"}}', "body.attributes.k"],
      ["/v1/contacts", '{"email":"s3@b.test","attributes":{"\\udc00":"v"}}', "body.attributes.\udc00".toWellFormed()],
      ["/v1/contacts/import", '[{"email":"s4@b.test","name":"\\ud800"}]', "body.0.name"],
      ["/v1/lists", '{"name":"a\\udbffb"}', "body.name"],
      ["/v1/templates", '{"name":"t","subject":"\\ud83d","html":"<p>x</p>"}', "body.subject"],
    ];
    for (const [path, body, field] of cases) {
      const problem = await expectProblem(await send(apiKey, path, body), 422, "validation_failed");
      expect(
        problem.errors?.map((e) => e.field),
        `${path} ${body}`,
      ).toContain(field);
      expect(problem.errors?.find((e) => e.field === field)?.message).toMatch(/surrogate/);
    }
    // A well-formed pair (an emoji, escaped) is ordinary text.
    const ok = await send(apiKey, "/v1/contacts", '{"email":"s5@b.test","name":"\\ud83d\\ude00"}');
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { name: string }).name).toBe("😀");
  });

  it("echo a huge unknown key by its start only", async () => {
    const { apiKey } = await newTenant();
    const key = "k".repeat(100_000);
    const problem = await expectProblem(await send(apiKey, "/v1/lists", JSON.stringify({ name: "l", [key]: 1 })), 422, "validation_failed");
    expect(problem.errors?.[0]?.field.length).toBeLessThan(100);
    expect(JSON.stringify(problem).length).toBeLessThan(2_000);
  });
});

describe("input that parses but makes no sense", () => {
  it("refuses an API key that would be created already expired", async () => {
    const { apiKey } = await newTenant();
    for (const expires_at of ["2020-01-01T00:00:00Z", "2020-01-01T00:00:00+05:00", new Date(Date.now() - 1000).toISOString()]) {
      const problem = await expectProblem(
        await call("/v1/api-keys", { method: "POST", token: apiKey, json: { name: "dead", expires_at } }),
        422,
        "validation_failed",
      );
      expect(problem.errors).toEqual([{ field: "body.expires_at", message: "must be in the future" }]);
    }
  });

  it("refuses an email scheduled in the past", async () => {
    const { apiKey } = await newTenant();
    const body = {
      from: "a@b.test",
      to: "c@d.test",
      subject: "s",
      text: "t",
      scheduled_at: new Date(Date.now() - 3_600_000).toISOString(),
    };
    const problem = await expectProblem(await call("/v1/emails", { method: "POST", token: apiKey, json: body }), 422, "validation_failed");
    expect(problem.errors).toContainEqual({ field: "body.scheduled_at", message: "must not be in the past" });
  });

  it("refuses a campaign schedule in the past", async () => {
    const { apiKey } = await newTenant();
    const at = new Date(Date.now() - 3_600_000).toISOString();
    const problem = await expectProblem(
      await call("/v1/campaigns/0190b1b2-7c1e-7a3b-9f00-0123456789ab/schedule", {
        method: "POST",
        token: apiKey,
        json: { scheduled_at: at },
      }),
      422,
      "validation_failed",
    );
    expect(problem.errors).toContainEqual({ field: "body.scheduled_at", message: "must not be in the past" });
  });
});
