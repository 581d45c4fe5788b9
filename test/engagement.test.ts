// Tracking, one-click unsubscribe and inbound provider events, end to end: campaign mail carries
// the pixel, rewritten links and List-Unsubscribe; the edge handlers queue events; the events
// consumer stores them once, feeds suppression and the stats.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signToken } from "../src/tracking/token";
import { audience, campaign, keptMessages, launch, receivedBy, sinkProvider, tag, template, waitFor } from "./campaign-helpers";
import { sleep, waitForEmail } from "./email-helpers";
import { call, expectProblem, newTenant, nowSeconds } from "./helpers";
import { svixHeaders, svixSecret } from "./inbound-signers";

interface Stats {
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  bounced: number;
  complained: number;
  unsubscribed: number;
  rates: Record<string, number>;
}

async function statsUntil(apiKey: string, id: string, check: (s: Stats) => boolean, timeoutMs = 15_000): Promise<Stats> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(`/v1/campaigns/${id}/stats`, { token: apiKey });
    expect(res.status, await res.clone().text()).toBe(200);
    const stats = (await res.json()) as Stats;
    if (check(stats) || Date.now() > until) return stats;
    await sleep(150);
  }
}

const tokenIn = (text: string, prefix: string) => new RegExp(`https://herald\\.test/${prefix}/([A-Za-z0-9_.-]+)`).exec(text)?.[1];

async function trackedCampaign(n = 1) {
  const { apiKey, tenantId } = await newTenant();
  const provider = await sinkProvider(apiKey);
  const t = tag();
  const { listId, emails } = await audience(apiKey, `x+inspect.${t}`, n);
  const tpl = await template(apiKey, {
    html: '<html><body><p>Hi {{name}}</p><a href="https://example.com/offer?a=1&amp;b=2">offer</a></body></html>',
  });
  const res = await call("/v1/campaigns", {
    method: "POST",
    token: apiKey,
    json: {
      name: "tracked",
      template_id: tpl,
      list_ids: [listId],
      provider_ids: [provider],
      from: "News <news@example.test>",
      track_opens: true,
      track_clicks: true,
    },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const id = ((await res.json()) as { id: string }).id;
  expect((await launch(apiKey, id)).status).toBe(202);
  await waitFor(apiKey, id, (c) => c.state === "completed");
  const kept = await keptMessages(t);
  expect(kept).toHaveLength(n);
  return { apiKey, tenantId, id, t, emails, kept };
}

describe("campaign mail", () => {
  it("carries List-Unsubscribe with a one-click URL and a mailto, an open pixel and tracked links", async () => {
    const { kept } = await trackedCampaign();
    const [mail] = kept;
    expect(mail!.headers["List-Unsubscribe"]).toMatch(
      /^<https:\/\/herald\.test\/u\/[A-Za-z0-9_.-]+>, <mailto:unsubscribe@example\.test\?subject=unsubscribe>$/,
    );
    expect(mail!.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    expect(tokenIn(mail!.html, "t/o")).toBeDefined();
    expect(tokenIn(mail!.html, "t/c")).toBeDefined();
    expect(mail!.html).not.toContain("https://example.com/offer");
  });
});

describe("tracking", () => {
  it("counts an open once per message however often the pixel loads, and a click redirects to the signed target", async () => {
    const { apiKey, id, kept } = await trackedCampaign();
    const open = tokenIn(kept[0]!.html, "t/o")!;
    const click = tokenIn(kept[0]!.html, "t/c")!;
    for (let i = 0; i < 3; i++) {
      const pixel = await call(`/t/o/${open}`);
      expect(pixel.status).toBe(200);
      expect(pixel.headers.get("content-type")).toBe("image/gif");
      expect(pixel.headers.get("cache-control")).toContain("no-store");
    }
    const redirect = await call(`/t/c/${click}`, { redirect: "manual" });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe("https://example.com/offer?a=1&b=2");
    const stats = await statsUntil(apiKey, id, (s) => s.opened === 1 && s.clicked === 1);
    expect(stats).toMatchObject({ sent: 1, opened: 1, clicked: 1 });
    expect(stats.rates.opened).toBe(1);
  });

  it("a tampered or forged token goes nowhere: 404 without a Location", async () => {
    const { kept } = await trackedCampaign();
    const click = tokenIn(kept[0]!.html, "t/c")!;
    const [payload, mac] = click.split(".");
    const claims = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
    const evil = btoa(JSON.stringify({ ...claims, u: "https://evil.example/phish" }))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    for (const token of [`${evil}.${mac}`, `${payload}.${mac!.slice(0, -2)}AA`, "garbage", click.replace(/^./, "x")]) {
      const res = await call(`/t/c/${token}`, { redirect: "manual" });
      expect(res.status).toBe(404);
      expect(res.headers.get("location")).toBeNull();
    }
    const forged = await signToken("not-the-tracking-secret", { ...claims, u: "https://evil.example/" });
    expect((await call(`/t/c/${forged}`, { redirect: "manual" })).headers.get("location")).toBeNull();
    await expectProblem(await call(`/t/o/${forged}`), 404, "not_found");
  });
});

describe("one-click unsubscribe", () => {
  it("GET asks for confirmation; POST unsubscribes without login, suppresses the address and is counted", async () => {
    const { apiKey, id, kept, emails } = await trackedCampaign();
    const token = tokenIn(kept[0]!.headers["List-Unsubscribe"]!, "u")!;
    const page = await call(`/u/${token}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post">');
    // A GET changes nothing (link scanners follow GETs).
    expect((await call(`/v1/suppressions/${encodeURIComponent(emails[0]!)}`, { token: apiKey })).status).toBe(404);
    const res = await call(`/u/${token}`, {
      method: "POST",
      body: "List-Unsubscribe=One-Click",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Unsubscribed");
    const entry = await call(`/v1/suppressions/${encodeURIComponent(emails[0]!)}`, { token: apiKey });
    expect(entry.status).toBe(200);
    expect(await entry.json()).toMatchObject({ reason: "unsubscribe" });
    // Unsubscribing twice is harmless and counted once.
    expect((await call(`/u/${token}`, { method: "POST", body: "List-Unsubscribe=One-Click" })).status).toBe(200);
    const stats = await statsUntil(apiKey, id, (s) => s.unsubscribed === 1);
    expect(stats.unsubscribed).toBe(1);
    expect((await call(`/u/${token.slice(0, -3)}abc`, { method: "POST" })).status).toBe(404);
  });

  it("is honoured by a campaign already in flight", { timeout: 60_000 }, async () => {
    const { apiKey, tenantId } = await newTenant();
    // 40 sends a second for campaigns: 100-recipient messages go out seconds apart.
    const provider = await sinkProvider(apiKey, { rate: 50 });
    const t = tag();
    const { listId, emails } = await audience(apiKey, t, 250);
    const target = emails.at(-1)!;
    const id = await campaign(apiKey, { templateId: await template(apiKey), listIds: [listId], providerIds: [provider] });
    expect((await launch(apiKey, id)).status).toBe(202);
    const token = await signToken(env.TRACKING_SECRET, { k: "u", t: tenantId, m: crypto.randomUUID(), e: target, c: id });
    expect((await call(`/u/${token}`, { method: "POST", body: "List-Unsubscribe=One-Click" })).status).toBe(200);
    const done = await waitFor(apiKey, id, (c) => c.state === "completed", 45_000);
    expect(done.counts).toMatchObject({ total: 250, sent: 249, skipped: 1 });
    expect((await receivedBy(t))[target]).toBeUndefined();
  });
});

describe("inbound provider events", () => {
  it("a provider's event delivered twice is stored once; a hard bounce suppresses the address and becomes the email's last event", async () => {
    const { apiKey } = await newTenant();
    await sinkProvider(apiKey);
    const secret = svixSecret();
    const created = await call("/v1/providers", {
      method: "POST",
      token: apiKey,
      json: { name: "resend", kind: "resend", credentials: { api_key: "re_test", webhook_secret: secret }, enabled: false },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const resendId = ((await created.json()) as { id: string }).id;
    const to = `bounce.${tag()}@example.test`;
    const { id: emailId } = (await (
      await call("/v1/emails", { method: "POST", token: apiKey, json: { from: "app@example.test", to, subject: "s", text: "t" } })
    ).json()) as { id: string };
    await waitForEmail(apiKey, emailId, (e) => e.status === "sent");

    const body = JSON.stringify({
      type: "email.bounced",
      created_at: new Date().toISOString(),
      data: {
        email_id: "re-123",
        to: [to],
        tags: { herald_id: emailId },
        bounce: { type: "Permanent", message: "mailbox does not exist" },
      },
    });
    const svixId = `msg_${crypto.randomUUID()}`;
    for (let i = 0; i < 2; i++) {
      const res = await call(`/v1/webhooks/inbound/${resendId}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...(await svixHeaders(secret, svixId, nowSeconds(), body)) },
      });
      expect(res.status, await res.clone().text()).toBe(200);
    }
    const bounced = await waitForEmail(apiKey, emailId, (e) => e.last_event === "bounced");
    expect(bounced.events.filter((e) => e.type === "bounced")).toHaveLength(1);
    const until = Date.now() + 10_000;
    let entry = await call(`/v1/suppressions/${encodeURIComponent(to)}`, { token: apiKey });
    while (entry.status !== 200 && Date.now() < until) {
      await sleep(150);
      entry = await call(`/v1/suppressions/${encodeURIComponent(to)}`, { token: apiKey });
    }
    expect(await entry.json()).toMatchObject({ reason: "bounce" });
    // A forged delivery is refused before anything is queued.
    const forged = await call(`/v1/webhooks/inbound/${resendId}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...(await svixHeaders(svixSecret(), svixId, nowSeconds(), body)) },
    });
    expect(forged.status).toBe(401);
  });
});
