import type { Context } from "hono";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../../env";
import { HeraldError } from "../../errors";
import { publishEvents, type EventInput } from "../../events/message";
import { services } from "../../middleware/services";
import { admitTrackingEvent } from "../../tracking/edge-cap";
import { verifyToken } from "../../tracking/token";

/** A transparent 1×1 GIF. */
const PIXEL = Uint8Array.from(atob("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"), (ch) => ch.charCodeAt(0));

/**
 * Queues the event after the response: the edge handler never waits on Postgres or the queue, and a
 * queue hiccup costs one tracking event (logged), never the recipient's redirect. A hit past the
 * per-message cap answers exactly the same and queues nothing (see tracking/edge-cap.ts).
 */
function record(c: Context<HonoEnv>, tenantId: string, event: EventInput & { message_id: string }) {
  if (!admitTrackingEvent(`${tenantId}:${event.message_id}:${event.type}`)) return;
  c.var.defer(publishEvents(c.env.EVENTS_QUEUE, tenantId, [event]));
}

const notFound = () => new HeraldError("not_found", "this link is not valid");

export function registerTracking(app: OpenAPIHono<HonoEnv>) {
  app.get("/t/o/:token", services, async (c) => {
    const claims = await verifyToken(c.var.config.trackingSecret ?? "", c.req.param("token"), "o");
    if (!claims) throw notFound();
    record(c, claims.t, {
      type: "opened",
      source: "tracking",
      message_id: claims.m,
      campaign_id: claims.c,
      occurred_at: new Date().toISOString(),
    });
    return c.body(PIXEL, 200, { "content-type": "image/gif", "cache-control": "no-store, max-age=0" });
  });

  app.get("/t/c/:token", services, async (c) => {
    // The target comes only from a token herald signed, so this is no open redirect: a tampered
    // token is a 404 without a Location.
    const claims = await verifyToken(c.var.config.trackingSecret ?? "", c.req.param("token"), "c");
    if (!claims?.u) throw notFound();
    record(c, claims.t, {
      type: "clicked",
      source: "tracking",
      message_id: claims.m,
      campaign_id: claims.c,
      url: claims.u,
      occurred_at: new Date().toISOString(),
    });
    c.header("cache-control", "no-store");
    c.header("referrer-policy", "no-referrer");
    return c.redirect(claims.u, 302);
  });
}
