import type { Context } from "hono";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { html } from "hono/html";
import type { HonoEnv } from "../../env";
import { publishEvents } from "../../events/message";
import { services } from "../../middleware/services";
import { suppress } from "../../suppressions/store";
import { verifyToken, type TrackingClaims } from "../../tracking/token";

function page(c: Context<HonoEnv>, status: 200 | 404, title: string, body: ReturnType<typeof html>) {
  c.header("cache-control", "no-store");
  c.header("x-robots-tag", "noindex");
  return c.html(
    html`<!doctype html>
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>${title}</title>
          <style>
            body { font: 16px/1.5 system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem; color: #222; }
            button { font: inherit; padding: 0.5rem 1.25rem; border-radius: 6px; border: 1px solid #444; background: #222; color: #fff; cursor: pointer; }
          </style>
        </head>
        <body>
          <h1>${title}</h1>
          ${body}
        </body>
      </html>`,
    status,
  );
}

async function claimsOf(c: Context<HonoEnv>): Promise<(TrackingClaims & { e: string }) | undefined> {
  const claims = await verifyToken(c.var.config.trackingSecret ?? "", c.req.param("token") ?? "", "u");
  return claims?.e ? (claims as TrackingClaims & { e: string }) : undefined;
}

const invalid = (c: Context<HonoEnv>) =>
  page(c, 404, "Link not valid", html`<p>This unsubscribe link is not valid. Use the link from the email itself.</p>`);

/**
 * GET /u/:token asks for confirmation (link scanners follow GETs; they must not unsubscribe anyone).
 * POST /u/:token unsubscribes at once, with no login: the RFC 8058 one-click POST that mail
 * clients send (body List-Unsubscribe=One-Click), or the confirmation page's button.
 */
export function registerUnsubscribe(app: OpenAPIHono<HonoEnv>) {
  app.get("/u/:token", async (c) => {
    const claims = await claimsOf(c);
    if (!claims) return invalid(c);
    return page(
      c,
      200,
      "Unsubscribe",
      html`<p>Stop sending email to <strong>${claims.e}</strong>?</p>
        <form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click" /><button type="submit">Unsubscribe</button></form>`,
    );
  });

  // Never refused for rate (mailbox providers post from few addresses); a bad token costs one HMAC.
  app.post("/u/:token", services, async (c) => {
    const claims = await claimsOf(c);
    if (!claims) return invalid(c);
    // Written before answering: from this commit on, no send of this tenant's claims this address.
    await suppress(c.var.db, claims.t, [{ email: claims.e, reason: "unsubscribe", note: claims.c ? `campaign ${claims.c}` : undefined }]);
    c.var.defer(
      publishEvents(c.env.EVENTS_QUEUE, claims.t, [
        {
          type: "unsubscribed",
          source: "unsubscribe",
          message_id: claims.m,
          campaign_id: claims.c,
          email: claims.e,
          provider_event_id: `unsubscribe:${claims.m}`,
          occurred_at: new Date().toISOString(),
        },
      ]),
    );
    return page(c, 200, "Unsubscribed", html`<p><strong>${claims.e}</strong> will receive no more email from this sender.</p>`);
  });
}
