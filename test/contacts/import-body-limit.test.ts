import { describe, expect, it } from "vitest";
import { call, expectProblem, newTenant } from "../helpers";
import { imported } from "./helpers";

/** The real app: its default 1 MiB limiter skips the import path, which applies its own 10 MiB. */
function callWithImportLimit(path: string, init: RequestInit): Promise<Response> {
  return call(path, init);
}

describe("POST /v1/contacts/import body limit", () => {
  it("takes 10,000 rows in a body over 1 MiB, in one request", async () => {
    const { apiKey } = await newTenant();
    const filler = "x".repeat(180);
    const csv = `email,name,note\n${Array.from({ length: 10_000 }, (_, i) => `user${i}@bulk.example.com,User ${i},${filler}`).join("\n")}\n`;
    expect(csv.length).toBeGreaterThan(2 * 1024 * 1024);
    const res = await callWithImportLimit("/v1/contacts/import", {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "text/csv" },
      body: csv,
    });
    expect(await imported(res)).toEqual({ created: 10_000, updated: 0, errors: [] });
    const again = await callWithImportLimit("/v1/contacts/import", {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "text/csv" },
      body: csv,
    });
    expect(await imported(again)).toEqual({ created: 0, updated: 10_000, errors: [] });
  });

  it("refuses a body over 10 MiB with 413", async () => {
    const { apiKey } = await newTenant();
    const res = await callWithImportLimit("/v1/contacts/import", {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "text/csv" },
      body: `email,blob\na@b.co,${"x".repeat(10 * 1024 * 1024)}\n`,
    });
    await expectProblem(res, 413, "payload_too_large");
  });

  it("keeps the 1 MiB default on the other contact routes", async () => {
    const { apiKey } = await newTenant();
    const res = await callWithImportLimit("/v1/contacts", {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ email: "a@b.co", name: "x".repeat(1024 * 1024) }),
    });
    await expectProblem(res, 413, "payload_too_large");
  });
});
