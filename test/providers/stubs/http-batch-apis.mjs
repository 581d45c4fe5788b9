// HTTP stand-in handlers (see http-stubs.mjs): {match(path), handle(req, raw, creds, path)} for herald's sink,
// Resend and Postmark, whose send endpoints take a batch of emails.
import { randomUUID } from "node:crypto";
import { isStr, list, marked, parseJson } from "./http-util.mjs";

/** herald's own sink wire format: scripts/lib/sink-server.mjs. */
export const sink = {
  match: (path) => path === "/sink",
  async handle(req, raw) {
    const v = [];
    if (!String(req.headers["content-type"]).startsWith("application/json")) v.push("content-type must be application/json");
    const messages = parseJson(raw)?.messages;
    if (!Array.isArray(messages)) v.push("messages must be an array");
    const list = Array.isArray(messages) ? messages : [];
    return {
      recipients: list.flatMap((m) => [...(m?.to ?? []), ...(m?.cc ?? []), ...(m?.bcc ?? [])]),
      violations: v,
      invalid: (why) => ({ status: 400, body: { error: why } }),
      answer: () => ({
        status: 200,
        body: {
          results: list.map((m) =>
            marked(m.to, "reject") ? { id: m.id, status: "rejected", error: "recipient rejected" } : { id: m.id, status: "accepted" },
          ),
        },
      }),
    };
  },
};

/** https://resend.com/docs/api-reference/emails/send-batch-emails */
export const resend = {
  match: (path) => path === "/resend/emails/batch",
  async handle(req, raw, creds) {
    if (!req.headers.authorization)
      return { status: 401, body: { statusCode: 401, name: "missing_api_key", message: "Missing API key in the authorization header." } };
    if (req.headers.authorization !== `Bearer ${creds.resend.apiKey}`)
      return { status: 403, body: { statusCode: 403, name: "invalid_api_key", message: "API key is invalid" } };
    const v = [];
    if (!String(req.headers["content-type"]).startsWith("application/json")) v.push("content-type must be application/json");
    const mode = req.headers["x-batch-validation"] ?? "strict";
    if (!["strict", "permissive"].includes(mode)) v.push("x-batch-validation must be strict or permissive");
    const key = req.headers["idempotency-key"];
    if (key !== undefined && (key.length < 1 || key.length > 256)) v.push("Idempotency-Key must be 1..256 characters");
    const body = parseJson(raw);
    if (!Array.isArray(body) || body.length < 1 || body.length > 100) v.push("body must be an array of 1..100 emails");
    const emails = Array.isArray(body) ? body : [];
    const allowed = new Set([
      "from",
      "to",
      "cc",
      "bcc",
      "reply_to",
      "subject",
      "html",
      "text",
      "headers",
      "tags",
      "scheduled_at",
      "attachments",
    ]);
    emails.forEach((e, i) => {
      if (!isStr(e?.from)) v.push(`[${i}].from is required`);
      if (list(e?.to).length === 0 || list(e?.to).length > 50) v.push(`[${i}].to needs 1..50 addresses`);
      if (!isStr(e?.subject)) v.push(`[${i}].subject is required`);
      if (!isStr(e?.html) && !isStr(e?.text)) v.push(`[${i}] needs html or text`);
      if (e?.headers !== undefined && (typeof e.headers !== "object" || Object.values(e.headers).some((h) => typeof h !== "string")))
        v.push(`[${i}].headers must map names to strings`);
      for (const k of Object.keys(e ?? {})) if (!allowed.has(k)) v.push(`[${i}].${k} is not a field`);
    });
    const recipients = emails.flatMap((e) => [...list(e?.to), ...list(e?.cc), ...list(e?.bcc)]);
    return {
      recipients,
      violations: v,
      idempotencyKey: key,
      invalid: (why) => ({ status: 422, body: { statusCode: 422, name: "validation_error", message: why } }),
      answer: () => {
        const refused = emails
          .map((e, index) =>
            marked(list(e.to), "reject") ? { index, message: "The `to` field contains an address that cannot receive email." } : undefined,
          )
          .filter(Boolean);
        if (refused.length > 0 && mode === "strict")
          return { status: 422, body: { statusCode: 422, name: "validation_error", message: refused[0].message } };
        const data = emails.filter((_, i) => !refused.some((r) => r.index === i)).map(() => ({ id: randomUUID() }));
        return { status: 200, body: mode === "permissive" ? { data, errors: refused } : { data } };
      },
    };
  },
};

/** https://postmarkapp.com/developer/api/email-api#send-batch-emails */
export const postmark = {
  match: (path) => path === "/postmark/email/batch",
  async handle(req, raw, creds) {
    if (req.headers["x-postmark-server-token"] !== creds.postmark.serverToken) {
      return {
        status: 401,
        body: { ErrorCode: 10, Message: "The Server Token you provided in the X-Postmark-Server-Token request header was invalid." },
      };
    }
    const v = [];
    if (!String(req.headers.accept ?? "").includes("application/json")) v.push("Accept must include application/json");
    if (!String(req.headers["content-type"]).startsWith("application/json")) v.push("content-type must be application/json");
    const body = parseJson(raw);
    if (!Array.isArray(body) || body.length < 1 || body.length > 500) v.push("body must be an array of 1..500 messages");
    const emails = Array.isArray(body) ? body : [];
    emails.forEach((e, i) => {
      if (!isStr(e?.From)) v.push(`[${i}].From is required`);
      if (!isStr(e?.To)) v.push(`[${i}].To must be a comma-separated string`);
      if (!isStr(e?.Subject)) v.push(`[${i}].Subject is required`);
      if (!isStr(e?.HtmlBody) && !isStr(e?.TextBody)) v.push(`[${i}] needs HtmlBody or TextBody`);
      if (e?.Headers !== undefined && (!Array.isArray(e.Headers) || e.Headers.some((h) => !isStr(h?.Name) || typeof h?.Value !== "string")))
        v.push(`[${i}].Headers must be [{Name, Value}]`);
      if (!isStr(e?.MessageStream)) v.push(`[${i}].MessageStream is required`);
    });
    const recipients = emails.flatMap((e) => [...list(e?.To), ...list(e?.Cc), ...list(e?.Bcc)]);
    return {
      recipients,
      violations: v,
      invalid: (why) => ({ status: 422, body: { ErrorCode: 300, Message: why } }),
      answer: () => ({
        status: 200,
        body: emails.map((e) =>
          marked(list(e.To), "reject")
            ? { ErrorCode: 406, Message: "You tried to send to recipient(s) that have been marked as inactive.", To: e.To }
            : { ErrorCode: 0, Message: "OK", MessageID: randomUUID(), SubmittedAt: new Date().toISOString(), To: e.To },
        ),
      }),
    };
  },
};
