// POST /v1/templates/{id}/preview: a template rendered with sample or given data.
import { describe, expect, it } from "vitest";
import { call, expectProblem, newTenant } from "./helpers";
import { expectUnparsableBodiesRefused } from "./request-helpers";
import { createTemplate, WELCOME } from "./template-helpers";

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
    await expectUnparsableBodiesRefused(url, apiKey, { notJson: ["text/plain", "x"] });
  });
});
