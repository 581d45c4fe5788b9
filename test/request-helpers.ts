// Requests several API suites make the same way: a scoped API key, and the bodies every JSON route
// refuses before its handler reads them.
import { expect } from "vitest";
import { type CallOptions, call, expectProblem } from "./helpers";

/** A new API key of the tenant `token` belongs to, with only `scopes`. */
export async function keyWith(token: string, scopes: string[]): Promise<string> {
  const res = await call("/v1/api-keys", { method: "POST", token, json: { name: scopes.join(" "), scopes } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { key: string }).key;
}

/**
 * POSTs to `path` a body that is not valid JSON (400 malformed_json) and one that is not JSON at
 * all (415 unsupported_media_type), as `bodies` gives them or else `{` and `name=x` as text/plain.
 */
export async function expectUnparsableBodiesRefused(
  path: string,
  token: string,
  bodies: { malformed?: string; notJson?: [contentType: string, body: string] } = {},
): Promise<void> {
  const post = (contentType: string, body: string) => call(path, { method: "POST", token, headers: { "content-type": contentType }, body });
  await expectProblem(await post("application/json", bodies.malformed ?? "{"), 400, "malformed_json");
  await expectProblem(await post(...(bodies.notJson ?? ["text/plain", "name=x"])), 415, "unsupported_media_type");
}

/**
 * Every route of a resource at `collection/{id}` (GET, PATCH with a new name, DELETE, and the ones
 * `more` adds under the id's URL) answers 404 not_found for ids that are not UUIDs.
 */
export async function expectNonUuidIdsNotFound(
  collection: string,
  token: string,
  more: (url: string) => [path: string, request: CallOptions][] = () => [],
): Promise<void> {
  for (const id of ["123", "' or 1=1 --", "00000000-0000-0000-0000-00000000000g"]) {
    const url = `${collection}/${encodeURIComponent(id)}`;
    const routes: [string, CallOptions][] = [
      [url, {}],
      [url, { method: "PATCH", json: { name: "x" } }],
      [url, { method: "DELETE" }],
      ...more(url),
    ];
    for (const [path, request] of routes) await expectProblem(await call(path, { ...request, token }), 404, "not_found");
  }
}
