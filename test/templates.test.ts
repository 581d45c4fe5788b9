// /v1/templates: creating, validating, listing, updating and deleting templates.
import { describe, expect, it } from "vitest";
import { call, expectProblem, newTenant } from "./helpers";
import { expectUnparsableBodiesRefused } from "./request-helpers";
import { createTemplate, type TemplateDto, WELCOME } from "./template-helpers";

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
    await expectUnparsableBodiesRefused("/v1/templates", apiKey, { malformed: '{"name":', notJson: ["text/html", "<p>x</p>"] });
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
