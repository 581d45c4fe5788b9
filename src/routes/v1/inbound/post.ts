import { createRoute, z } from "@hono/zod-openapi";
import type { Handler, ResponseBody } from "../../define";
import { inboundProvider } from "../../../providers/rows";
import { HeraldError } from "../../../errors";
import { EventInput, publishEvents } from "../../../events/message";
import { decryptJson, DecryptionError } from "../../../lib/crypto";
import { isUuid } from "../../../lib/ids";
import { problems, uuidOr404 } from "../../../lib/schemas";
import { wellFormed } from "../../../lib/text";
import { credentialsAad } from "../../../providers/registry";
import { fetchSnsText, verifyInbound, type InboundEvent, type InboundProviderKind, type InboundSecrets } from "../../../webhooks/inbound";
import { alreadyAnswered, rememberAnswered } from "./replay";

const INBOUND_KINDS = ["ses", "sendgrid", "mailgun", "postmark", "resend"] as const satisfies readonly InboundProviderKind[];

export function isInboundKind(kind: string): kind is InboundProviderKind {
  return (INBOUND_KINDS as readonly string[]).includes(kind);
}

const ProviderIdParam = z.object({
  provider_id: z.string().openapi({
    param: { name: "provider_id", in: "path" },
    description: "The id of the herald provider the webhook belongs to",
    example: "0190b1b2-7c1e-7a3b-9f00-0123456789ab",
  }),
});

const ReceivedSchema = z
  .object({
    received: z.number().int().openapi({ description: "Events taken from the webhook and queued for storing" }),
    confirmed: z.boolean().optional().openapi({ description: "true when an SNS subscription was confirmed" }),
    duplicate: z
      .boolean()
      .optional()
      .openapi({ description: "true when this exact signed request (Mailgun's token) was answered before: nothing was done this time" }),
  })
  .openapi("InboundReceived");

/** On createRoute, not defineRoute: no bearer token (the provider's own signature is checked), the raw body, a description. */
export const route = createRoute({
  method: "post",
  path: "/{provider_id}",
  tags: ["webhooks"],
  summary: "Receives a provider's delivery and engagement webhook (SES via SNS, SendGrid, Mailgun, Postmark, Resend)",
  description:
    "No bearer token: the provider's own signature (or, for Postmark, HTTP Basic auth) is checked against the webhook secret stored on the provider. " +
    "The body is taken exactly as sent. Verified events are queued and stored asynchronously.",
  request: { params: ProviderIdParam },
  responses: {
    200: { description: "Verified; the events are queued", content: { "application/json": { schema: ReceivedSchema } } },
    ...problems(400, 401, 404, 413, 429),
  },
});

const MAX_EMAIL = 320;
const MAX_URL = 4096;
const MAX_EVENT_ID = 512;

/**
 * At most `max` code points of a well-formed copy of `text`. Unlike clipCodePoints it adds no "…":
 * an id or URL cut short stays one (the same input always gives the same id, so dedupe holds).
 */
function cut(text: string, max: number): string {
  const safe = wellFormed(text);
  return safe.length <= max ? safe : Array.from(safe).slice(0, max).join("");
}

/**
 * Verified provider events as events-queue messages. herald's id is kept only when it is a UUID
 * (a provider echoing something else cannot name another message); addresses are lower-cased.
 */
export function toEventInputs(kind: InboundProviderKind, events: InboundEvent[]): EventInput[] {
  const out: EventInput[] = [];
  for (const e of events) {
    // Text from the payload may hold lone surrogates; bounds are in code points, never halving a pair.
    const email = e.email === undefined ? undefined : wellFormed(e.email).trim().toLowerCase();
    const data: Record<string, unknown> = {};
    if (e.providerMessageId) data.provider_message_id = e.providerMessageId;
    if (e.raw !== undefined) data.details = e.raw;
    const candidate: EventInput = {
      type: e.type,
      ...(isUuid(e.heraldMessageId) ? { message_id: e.heraldMessageId.toLowerCase() } : {}),
      ...(email && email.length <= MAX_EMAIL ? { email } : {}),
      source: kind,
      provider_event_id: cut(e.providerEventId, MAX_EVENT_ID),
      ...(e.url ? { url: cut(e.url, MAX_URL) } : {}),
      occurred_at: e.occurredAt,
      ...(e.bounceType ? { bounce_type: e.bounceType } : {}),
      data,
    };
    // What the queue consumer will accept; an event it would refuse is better dropped here.
    const parsed = EventInput.safeParse(candidate);
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

type Settings = Record<string, unknown>;
const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);

/** The webhook secrets of a provider, from its config (public keys, topics) and credentials. */
export function inboundSecrets(kind: InboundProviderKind, config: Settings, credentials: Settings): InboundSecrets {
  switch (kind) {
    case "sendgrid":
      return { sendgridPublicKey: text(config.webhook_public_key) };
    case "ses": {
      const arns = Array.isArray(config.webhook_topic_arns)
        ? config.webhook_topic_arns.filter((a): a is string => typeof a === "string")
        : undefined;
      return arns && arns.length > 0 ? { sesTopicArns: arns } : {};
    }
    case "mailgun":
      return { mailgunSigningKey: text(credentials.webhook_signing_key) };
    case "postmark":
      return { postmarkUsername: text(credentials.webhook_username), postmarkPassword: text(credentials.webhook_password) };
    case "resend":
      return { resendWebhookSecret: text(credentials.webhook_secret) };
  }
}

const noSuchProvider = () => new HeraldError("not_found", "no such webhook endpoint");

export const handler: Handler<typeof route> = async (c) => {
  const providerId = uuidOr404(c.req.valid("param").provider_id, noSuchProvider);
  const row = await inboundProvider(c.var.db, providerId);
  if (!row || !isInboundKind(row.kind)) throw noSuchProvider();
  const kind = row.kind;
  const logger = c.var.logger.child({ tenant_id: row.tenantId, provider_id: row.id, kind });
  c.set("logger", logger);

  let credentials: Settings = {};
  if (row.credentials && (kind === "mailgun" || kind === "postmark" || kind === "resend")) {
    try {
      credentials = (await decryptJson<Settings | null>(row.credentials, c.var.config.encryptionKey, credentialsAad(row.id))) ?? {};
    } catch (err) {
      if (!(err instanceof DecryptionError)) throw err;
      logger.warn("inbound webhook: stored credentials cannot be decrypted");
      throw new HeraldError("unauthorized", "the provider's stored credentials cannot be read; set them again");
    }
  }

  const body = await c.req.text();
  const result = await verifyInbound(
    kind,
    { method: c.req.method, url: c.req.url, headers: c.req.raw.headers, body },
    inboundSecrets(kind, row.config, credentials),
    // SNS hosts only, no redirects; a failed download fails verification.
    { fetchText: (url) => fetchSnsText(url) },
  );
  if (!result.ok) {
    logger.warn("inbound webhook refused", { status: result.status, reason: result.reason });
    const headers: Record<string, string> =
      kind === "postmark" && result.status === 401 ? { "www-authenticate": 'Basic realm="herald"' } : {};
    throw new HeraldError(result.status === 401 ? "unauthorized" : "bad_request", result.reason, { headers });
  }

  // A replay of a request already answered 2xx is answered 200 again (so a sender whose first answer
  // was lost stops retrying) and changes nothing. A request answered otherwise is not remembered,
  // so the provider's own retry of it is processed.
  if (result.replay && (await alreadyAnswered(c.var.cache, row.id, result.replay, logger))) {
    logger.info("inbound webhook: replayed request ignored");
    return c.json({ received: 0, duplicate: true }, 200);
  }

  const events = toEventInputs(kind, result.events);
  if (events.length > 0) await publishEvents(c.env.EVENTS_QUEUE, row.tenantId, events);
  if (result.replay) await rememberAnswered(c.var.cache, row.id, result.replay, logger);
  if (events.length < result.events.length)
    logger.warn("inbound webhook: events dropped as invalid", { dropped: result.events.length - events.length });
  logger.info("inbound webhook", { received: events.length, ...(result.confirmed ? { confirmed: true } : {}) });
  return c.json({ received: events.length, ...(result.confirmed ? { confirmed: true } : {}) }, 200);
};

export type InboundWebhookResponse = ResponseBody<typeof route>;
