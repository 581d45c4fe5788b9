import { describe, expect, it } from "vitest";
import { call, expectProblem, newTenant } from "./helpers";

interface TemplateDto {
  id: string;
  name: string;
  subject: string;
  html?: string | null;
  text?: string | null;
  version: number;
  variables: string[];
  unknown_variables?: string[];
  created_at: string;
  updated_at: string;
}

async function keyWith(token: string, scopes: string[]): Promise<string> {
  const res = await call("/v1/api-keys", { method: "POST", token, json: { name: scopes.join(" "), scopes } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { key: string }).key;
}

async function createTemplate(token: string, body: Record<string, unknown>): Promise<TemplateDto> {
  const res = await call("/v1/templates", { method: "POST", token, json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as TemplateDto;
}

const WELCOME = {
  name: "welcome",
  subject: 'Welcome, {{ name | "friend" }}',
  html: '<p>Hi {{ name }}, your plan is {{ attributes.plan }}. {{ campaign.promo }}</p><a href="{{ unsubscribe_url }}">unsubscribe</a>',
  text: "Hi {{ name }}",
};

describe("/v1/templates", () => {
  it("creates a template, computing its variables, then gets it", async () => {
    const { apiKey } = await newTenant();
    const created = await createTemplate(apiKey, WELCOME);
    expect(created).toMatchObject({
      name: "welcome",
      subject: WELCOME.subject,
      html: WELCOME.html,
      text: WELCOME.text,
      version: 1,
      variables: ["name", "attributes.plan", "campaign.promo", "unsubscribe_url"],
      unknown_variables: [],
    });
    const got = await call(`/v1/templates/${created.id}`, { token: apiKey });
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(created);
  });

  it("saves a template with unknown variables but lists them as a warning", async () => {
    const { apiKey } = await newTenant();
    const created = await createTemplate(apiKey, {
      name: "typo",
      subject: "Hi {{ nmae }}",
      text: "{{ attributes }} {{ contact.email }} {{ email }}",
    });
    expect(created.unknown_variables).toEqual(["nmae", "attributes", "contact.email"]);
    expect(created.variables).toEqual(["nmae", "attributes", "contact.email", "email"]);
  });

  it("accepts html only or text only, and refuses neither, naming both fields", async () => {
    const { apiKey } = await newTenant();
    expect((await createTemplate(apiKey, { name: "h", subject: "s", html: "<p>x</p>" })).text).toBeNull();
    expect((await createTemplate(apiKey, { name: "t", subject: "s", text: "x" })).html).toBeNull();
    const body = await expectProblem(
      await call("/v1/templates", { method: "POST", token: apiKey, json: { name: "n", subject: "s", html: null } }),
      422,
      "validation_failed",
    );
    expect(body.errors!.map((e) => e.field).sort()).toEqual(["body.html", "body.text"]);
  });

  it("answers template syntax errors with 422 naming each broken part", async () => {
    const { apiKey } = await newTenant();
    const res = await call("/v1/templates", {
      method: "POST",
      token: apiKey,
      json: { name: "broken", subject: "Hi {{ name", html: "<p>{{ first name }}</p>", text: "fine {{ name }}" },
    });
    const body = await expectProblem(res, 422, "validation_failed");
    expect(body.errors!.map((e) => e.field)).toEqual(["body.subject", "body.html"]);
    expect(body.errors![0]!.message).toMatch(/unclosed/);
    expect(body.errors![1]!.message).toMatch(/unexpected/);
    const list = (await (await call("/v1/templates", { token: apiKey })).json()) as { data: TemplateDto[] };
    expect(list.data).toEqual([]);
  });

  it("validates names, subject length and line breaks, body size and unknown fields", async () => {
    const { apiKey } = await newTenant();
    const cases: [Record<string, unknown>, string[]][] = [
      [{ subject: "s", text: "t" }, ["body.name"]],
      [{ name: "n", text: "t" }, ["body.subject"]],
      [{ name: "n", subject: "x".repeat(999), text: "t" }, ["body.subject"]],
      [{ name: "n", subject: "Hi\r\nBcc: a@b.c", text: "t" }, ["body.subject"]],
      [{ name: "n", subject: "s", html: "x".repeat(512 * 1024 + 1) }, ["body.html"]],
      [{ name: "n", subject: "s", text: "é".repeat(262_145) }, ["body.text"]],
      [{ name: "n", subject: "s", text: "t", engine: "liquid" }, ["body.engine"]],
    ];
    for (const [json, fields] of cases) {
      const body = await expectProblem(await call("/v1/templates", { method: "POST", token: apiKey, json }), 422, "validation_failed");
      expect(
        body.errors!.map((e) => e.field),
        JSON.stringify(json).slice(0, 80),
      ).toEqual(fields);
    }
    // Exactly at the limits is fine.
    await createTemplate(apiKey, { name: "max", subject: "x".repeat(998), html: "x".repeat(512 * 1024) });
  });

  it("rejects malformed JSON (400) and bodies that are not JSON (415)", async () => {
    const { apiKey } = await newTenant();
    const headers = { "content-type": "application/json" };
    await expectProblem(await call("/v1/templates", { method: "POST", token: apiKey, headers, body: '{"name":' }), 400, "malformed_json");
    await expectProblem(
      await call("/v1/templates", { method: "POST", token: apiKey, headers: { "content-type": "text/html" }, body: "<p>x</p>" }),
      415,
      "unsupported_media_type",
    );
  });

  it("lists summaries without bodies, newest first, with cursor pagination", async () => {
    const { apiKey } = await newTenant();
    const made: string[] = [];
    for (let i = 0; i < 3; i++)
      made.push((await createTemplate(apiKey, { name: `t${i}`, subject: "s {{ name }}", html: "<b>big body</b>" })).id);
    const seen: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const res = await call(`/v1/templates?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: apiKey });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { data: TemplateDto[]; next_cursor: string | null };
      for (const t of page.data) {
        expect(t).not.toHaveProperty("html");
        expect(t).not.toHaveProperty("text");
        expect(t.variables).toEqual(["name"]);
      }
      seen.push(...page.data.map((t) => t.id));
      cursor = page.next_cursor;
    }
    expect(seen).toEqual([...made].reverse());
    await expectProblem(await call("/v1/templates?cursor=bogus", { token: apiKey }), 422, "validation_failed");
  });

  it("updates a template: bumps the version and updated_at, recomputes variables", async () => {
    const { apiKey } = await newTenant();
    const created = await createTemplate(apiKey, WELCOME);
    const res = await call(`/v1/templates/${created.id}`, {
      method: "PATCH",
      token: apiKey,
      json: { html: "<p>{{ attributes.city }}</p>", text: null },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const updated = (await res.json()) as TemplateDto;
    expect(updated).toMatchObject({
      name: "welcome",
      subject: WELCOME.subject,
      html: "<p>{{ attributes.city }}</p>",
      text: null,
      version: 2,
    });
    expect(updated.variables).toEqual(["name", "attributes.city"]);
    expect(Date.parse(updated.updated_at)).toBeGreaterThan(Date.parse(created.updated_at));
    expect(updated.created_at).toBe(created.created_at);

    const renamed = (await (
      await call(`/v1/templates/${created.id}`, { method: "PATCH", token: apiKey, json: { name: "hello" } })
    ).json()) as TemplateDto;
    expect(renamed).toMatchObject({ name: "hello", version: 3 });
  });

  it("refuses updates that would break the template, and leaves it as it was", async () => {
    const { apiKey } = await newTenant();
    const created = await createTemplate(apiKey, { name: "n", subject: "s", html: "<p>x</p>" });
    const patch = (json: unknown) => call(`/v1/templates/${created.id}`, { method: "PATCH", token: apiKey, json });
    const noBody = await expectProblem(await patch({ html: null }), 422, "validation_failed");
    expect(noBody.errors!.map((e) => e.field)).toEqual(["body.html", "body.text"]);
    const syntax = await expectProblem(await patch({ text: "{{ oops" }), 422, "validation_failed");
    expect(syntax.errors!.map((e) => e.field)).toEqual(["body.text"]);
    const empty = await expectProblem(await patch({}), 422, "validation_failed");
    expect(empty.errors!.map((e) => e.field)).toEqual(["body"]);
    await expectProblem(await patch({ version: 9 }), 422, "validation_failed");
    const after = (await (await call(`/v1/templates/${created.id}`, { token: apiKey })).json()) as TemplateDto;
    expect(after).toMatchObject({ version: 1, html: "<p>x</p>", text: null });
  });

  it("deletes a template", async () => {
    const { apiKey } = await newTenant();
    const created = await createTemplate(apiKey, WELCOME);
    const res = await call(`/v1/templates/${created.id}`, { method: "DELETE", token: apiKey });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    await expectProblem(await call(`/v1/templates/${created.id}`, { token: apiKey }), 404, "not_found");
    await expectProblem(await call(`/v1/templates/${created.id}`, { method: "DELETE", token: apiKey }), 404, "not_found");
  });
});

describe("POST /v1/templates/{id}/preview", () => {
  it("renders with sample contact data when none is given", async () => {
    const { apiKey } = await newTenant();
    const t = await createTemplate(apiKey, WELCOME);
    const res = await call(`/v1/templates/${t.id}/preview`, { method: "POST", token: apiKey });
    expect(res.status, await res.clone().text()).toBe(200);
    const out = (await res.json()) as { subject: string; html: string; text: string };
    expect(out.subject).toBe("Welcome, Jane Doe");
    expect(out.text).toBe("Hi Jane Doe");
    expect(out.html).toContain('href="https://example.com/unsubscribe?preview=1"');
  });

  it("renders the given contact and campaign data, escaped in html", async () => {
    const { apiKey } = await newTenant();
    const t = await createTemplate(apiKey, WELCOME);
    const res = await call(`/v1/templates/${t.id}/preview`, {
      method: "POST",
      token: apiKey,
      json: { contact: { name: "<script>x</script>", attributes: { plan: "pro" } }, campaign: { promo: "10% off" } },
    });
    expect(res.status).toBe(200);
    const out = (await res.json()) as { subject: string; html: string; text: string };
    expect(out.subject).toBe("Welcome, <script>x</script>");
    expect(out.html).toContain("<p>Hi &lt;script&gt;x&lt;/script&gt;, your plan is pro. 10% off</p>");
    expect(out.html).not.toContain("<script>");

    const nameless = await call(`/v1/templates/${t.id}/preview`, { method: "POST", token: apiKey, json: { contact: { name: null } } });
    expect(((await nameless.json()) as { subject: string }).subject).toBe("Welcome, friend");
  });

  it("validates the preview body", async () => {
    const { apiKey } = await newTenant();
    const t = await createTemplate(apiKey, WELCOME);
    const url = `/v1/templates/${t.id}/preview`;
    const bad = await expectProblem(
      await call(url, { method: "POST", token: apiKey, json: { contact: { attributes: "x" } } }),
      422,
      "validation_failed",
    );
    expect(bad.errors!.map((e) => e.field)).toEqual(["body.contact.attributes"]);
    await expectProblem(
      await call(url, { method: "POST", token: apiKey, headers: { "content-type": "application/json" }, body: "{" }),
      400,
      "malformed_json",
    );
    await expectProblem(
      await call(url, { method: "POST", token: apiKey, headers: { "content-type": "text/plain" }, body: "x" }),
      415,
      "unsupported_media_type",
    );
  });
});

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
    for (const id of ["123", "' or 1=1 --", "00000000-0000-0000-0000-00000000000g"]) {
      const url = `/v1/templates/${encodeURIComponent(id)}`;
      await expectProblem(await call(url, { token: apiKey }), 404, "not_found");
      await expectProblem(await call(url, { method: "PATCH", token: apiKey, json: { name: "x" } }), 404, "not_found");
      await expectProblem(await call(url, { method: "DELETE", token: apiKey }), 404, "not_found");
      await expectProblem(await call(`${url}/preview`, { method: "POST", token: apiKey }), 404, "not_found");
    }
  });
});
