// HTTP stand-ins for Resend, Postmark, SendGrid, Mailgun and SES v2. Each one checks the request
// shape its provider documents (path, auth, content type, required fields; SES: the SigV4
// signature) and answers in that provider's format. Recipients steer the answer:
//   "throttle"    → 429 with Retry-After: 7         "unavailable" → 503
//   "slow"        → answers after 1.5 s              "reject"      → that email is refused
//   "fault-<f>"   → a failure that may hide an accepted request, or may not (see FAULTS below)
// POST /sink speaks herald's sink wire format (scripts/lib/sink-server.mjs), so the sink adapter
// meets the same faults. Every request is captured; GET /_captured?provider=&to= returns those
// naming a recipient (several to= return those naming any of them; brief=1 leaves out the body;
// POST {provider, to: [...], brief} does the same for long lists).
// A 3xx fault ("fault-307") carries a Location to /_redirect-target on this server, which records
// whatever reaches it: GET /_redirect-hits?to= counts the requests that followed a redirect there.
import http from "node:http";
import { randomUUID } from "node:crypto";
import { checkSigV4 } from "./sigv4-check.mjs";

export const SLOW_MS = 1500;

/** @param {Buffer} body */
function parseJson(body) {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

const isStr = (v) => typeof v === "string" && v.length > 0;
const list = (v) => (Array.isArray(v) ? v : isStr(v) ? v.split(",").map((s) => s.trim()) : []);
const marked = (recipients, word) => recipients.some((r) => String(r).includes(word));

/**
 * Each handler: (req, raw body, creds) → { recipients, violations, answer(rejectedRecipients) } or a
 * direct { status, headers, body } for auth and routing failures.
 */
const HANDLERS = {
  /** herald's own sink wire format: scripts/lib/sink-server.mjs. */
  sink: {
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
  },

  /** https://resend.com/docs/api-reference/emails/send-batch-emails */
  resend: {
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
              marked(list(e.to), "reject")
                ? { index, message: "The `to` field contains an address that cannot receive email." }
                : undefined,
            )
            .filter(Boolean);
          if (refused.length > 0 && mode === "strict")
            return { status: 422, body: { statusCode: 422, name: "validation_error", message: refused[0].message } };
          const data = emails.filter((_, i) => !refused.some((r) => r.index === i)).map(() => ({ id: randomUUID() }));
          return { status: 200, body: mode === "permissive" ? { data, errors: refused } : { data } };
        },
      };
    },
  },

  /** https://postmarkapp.com/developer/api/email-api#send-batch-emails */
  postmark: {
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
        if (
          e?.Headers !== undefined &&
          (!Array.isArray(e.Headers) || e.Headers.some((h) => !isStr(h?.Name) || typeof h?.Value !== "string"))
        )
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
  },

  /**
   * https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send and its errors page:
   * up to 1,000 personalizations and 1,000 recipients (to + cc + bcc) a request, each address once
   * across them; a personalization's subject, headers, substitutions (strings, at most 10,000
   * bytes) and custom_args (at most 10,000 bytes) override the message's. `delivered` is what each
   * personalization's recipients would get: substitutions applied to its subject and content.
   */
  sendgrid: {
    match: (path) => path === "/sendgrid/v3/mail/send",
    async handle(req, raw, creds) {
      if (req.headers.authorization !== `Bearer ${creds.sendgrid.apiKey}`) {
        return {
          status: 401,
          body: { errors: [{ field: null, message: "The provided authorization grant is invalid, expired, or revoked", help: null }] },
        };
      }
      const v = [];
      if (!String(req.headers["content-type"]).startsWith("application/json")) v.push("content-type must be application/json");
      const b = parseJson(raw) ?? {};
      const ps = Array.isArray(b.personalizations) ? b.personalizations : [];
      if (ps.length < 1) v.push("You must have at least one personalization.");
      if (ps.length > 1000)
        v.push(
          `The personalization block is limited to 1000 personalizations per API request. You have provided ${ps.length} personalizations.`,
        );
      const bytes = (x) => Buffer.byteLength(x, "utf8");
      const isObject = (x) => x !== null && typeof x === "object" && !Array.isArray(x);
      const reserved = new Set([
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "content-type",
        "content-transfer-encoding",
        "to",
        "from",
        "subject",
        "reply-to",
        "cc",
        "bcc",
      ]);
      const checkHeaders = (h, where) => {
        if (h === undefined) return;
        if (!isObject(h) || Object.values(h).some((x) => typeof x !== "string")) v.push(`${where} must map names to strings`);
        else for (const name of Object.keys(h)) if (reserved.has(name.toLowerCase())) v.push(`${where}.${name} may not be set`);
      };
      const seen = new Set();
      let total = 0;
      ps.forEach((p, i) => {
        const all = [...(p?.to ?? []), ...(p?.cc ?? []), ...(p?.bcc ?? [])];
        if (!Array.isArray(p?.to) || p.to.length < 1 || all.some((t) => !isStr(t?.email)))
          v.push(`personalizations.${i}.to needs [{email}]`);
        total += all.length;
        for (const t of all) {
          const email = String(t?.email).toLowerCase();
          if (seen.has(email))
            v.push(
              "Each unique email address in the personalizations array should only be included once. You have included email address more than once.",
            );
          seen.add(email);
        }
        if (!isStr(p?.subject ?? b.subject))
          v.push(
            `personalizations.${i}: The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.`,
          );
        checkHeaders(p?.headers, `personalizations.${i}.headers`);
        if (p?.substitutions !== undefined) {
          if (!isObject(p.substitutions) || Object.values(p.substitutions).some((x) => typeof x !== "string"))
            v.push(`personalizations.${i}.substitutions must map tags to strings`);
          else if (Object.entries(p.substitutions).reduce((n, [k, x]) => n + bytes(k) + bytes(x), 0) > 10000)
            v.push(`personalizations.${i}.substitutions exceed 10,000 bytes`);
        }
        if (p?.custom_args !== undefined && (!isObject(p.custom_args) || bytes(JSON.stringify(p.custom_args)) > 10000))
          v.push(`personalizations.${i}.custom_args must be an object of at most 10,000 bytes`);
        if (!isStr({ ...b.custom_args, ...p?.custom_args }.herald_id)) v.push(`personalizations.${i}: custom_args.herald_id is missing`);
      });
      if (total > 1000) v.push("There is a limit of 1000 total recipients (to + cc + bcc) per request.");
      if (!isStr(b.from?.email)) v.push("from.email is required");
      if (b.subject !== undefined && !isStr(b.subject)) v.push("subject must be a non-empty string");
      const content = Array.isArray(b.content) ? b.content : [];
      if (content.length < 1 || content.some((c) => !isStr(c?.type) || !isStr(c?.value))) v.push("content needs [{type, value}]");
      if (content.length > 1 && content[0]?.type !== "text/plain") v.push("text/plain must come first in content");
      checkHeaders(b.headers, "headers");
      const substitute = (text, subs) =>
        typeof text === "string" ? Object.entries(subs ?? {}).reduce((t, [tag, value]) => t.split(tag).join(value), text) : text;
      const part = (type) => content.find((c) => c?.type === type)?.value;
      const delivered = ps.map((p) => ({
        to: (p?.to ?? []).map((t) => t?.email),
        cc: (p?.cc ?? []).map((t) => t?.email),
        bcc: (p?.bcc ?? []).map((t) => t?.email),
        from: b.from,
        replyTo: b.reply_to,
        subject: substitute(p?.subject ?? b.subject, p?.substitutions),
        text: substitute(part("text/plain"), p?.substitutions),
        html: substitute(part("text/html"), p?.substitutions),
        headers: { ...b.headers, ...p?.headers },
        customArgs: { ...b.custom_args, ...p?.custom_args },
      }));
      const recipients = ps.flatMap((p) => [...(p?.to ?? []), ...(p?.cc ?? []), ...(p?.bcc ?? [])].map((t) => t?.email));
      return {
        recipients,
        violations: v,
        delivered,
        invalid: (why) => ({ status: 400, body: { errors: [{ message: why, field: null }] } }),
        answer: () => {
          const refused = ps.findIndex((p) =>
            marked(
              (p?.to ?? []).map((t) => t?.email),
              "reject",
            ),
          );
          return refused >= 0
            ? {
                status: 400,
                body: { errors: [{ message: "Does not contain a valid address.", field: `personalizations.${refused}.to.0.email` }] },
              }
            : { status: 202, headers: { "x-message-id": randomUUID().replace(/-/g, "").slice(0, 22) }, body: "" };
        },
      };
    },
  },

  /** https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/messages */
  mailgun: {
    match: (path) => /^\/mailgun\/v3\/[^/]+\/messages$/.test(path),
    async handle(req, raw, creds, path) {
      if (req.headers.authorization !== `Basic ${Buffer.from(`api:${creds.mailgun.apiKey}`).toString("base64")}`)
        return { status: 401, body: "Forbidden" };
      const domain = path.split("/")[3];
      if (domain !== creds.mailgun.domain) return { status: 404, body: { message: `Domain not found: ${domain}` } };
      const v = [];
      const type = String(req.headers["content-type"] ?? "");
      let form;
      if (!type.startsWith("multipart/form-data")) v.push("content-type must be multipart/form-data");
      else form = await new Request("http://stub/", { method: "POST", headers: { "content-type": type }, body: raw }).formData();
      const get = (k) => form?.getAll(k).map(String) ?? [];
      if (!isStr(get("from")[0])) v.push("from is required");
      if (get("to").length < 1) v.push("to is required");
      if (!isStr(get("subject")[0])) v.push("subject is required");
      if (!isStr(get("html")[0]) && !isStr(get("text")[0])) v.push("html or text is required");
      if (!isStr(get("v:herald_id")[0])) v.push("v:herald_id is missing");
      const recipients = [...get("to"), ...get("cc"), ...get("bcc")];
      const fields = form ? Object.fromEntries([...new Set(form.keys())].map((k) => [k, get(k)])) : {};
      return {
        recipients,
        violations: v,
        parsed: fields,
        invalid: (why) => ({ status: 400, body: { message: why } }),
        answer: () =>
          marked(recipients, "reject")
            ? { status: 400, body: { message: "to parameter is not a valid address. please check documentation" } }
            : { status: 200, body: { id: `<${randomUUID()}@${domain}>`, message: "Queued. Thank you." } },
      };
    },
  },

  /** https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html */
  ses: {
    match: (path) => path === "/ses/v2/email/outbound-emails",
    async handle(req, raw, creds) {
      const bad = checkSigV4(req, raw, { ...creds.ses, service: "ses" });
      if (bad) {
        const type = bad === "unknown access key id" ? "UnrecognizedClientException" : "InvalidSignatureException";
        return {
          status: 403,
          headers: { "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazon.coral.service/` },
          body: { message: `stub: ${bad}` },
        };
      }
      const v = [];
      if (!String(req.headers["content-type"]).startsWith("application/json")) v.push("content-type must be application/json");
      const b = parseJson(raw) ?? {};
      if (!isStr(b.FromEmailAddress)) v.push("FromEmailAddress is required");
      const to = b.Destination?.ToAddresses;
      if (!Array.isArray(to) || to.length < 1) v.push("Destination.ToAddresses is required");
      const simple = b.Content?.Simple;
      if (!isStr(simple?.Subject?.Data)) v.push("Content.Simple.Subject.Data is required");
      if (!isStr(simple?.Body?.Html?.Data) && !isStr(simple?.Body?.Text?.Data)) v.push("Content.Simple.Body needs Html or Text");
      if (
        simple?.Headers !== undefined &&
        (!Array.isArray(simple.Headers) || simple.Headers.some((h) => !isStr(h?.Name) || typeof h?.Value !== "string"))
      )
        v.push("Content.Simple.Headers must be [{Name, Value}]");
      const recipients = [...(to ?? []), ...(b.Destination?.CcAddresses ?? []), ...(b.Destination?.BccAddresses ?? [])];
      const error = (status, type, message) => ({
        status,
        headers: { "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazon.coral.service/` },
        body: { message },
      });
      return {
        recipients,
        violations: v,
        invalid: (why) => error(400, "BadRequestException", why),
        throttled: () => error(429, "TooManyRequestsException", "Too Many Requests"),
        answer: () =>
          marked(recipients, "reject")
            ? error(
                400,
                "MessageRejected",
                `Email address is not verified. The following identities failed the check in region ${creds.ses.region.toUpperCase()}: ${recipients[0]}`,
              )
            : { status: 200, body: { MessageId: `0100${randomUUID().replace(/-/g, "")}-000000` } },
      };
    },
  },
};

/**
 * Failures a recipient "fault-<name>" asks for, each after the whole request was read.
 *   reset        the connection is reset, no answer        slowreset  the same, 300 ms later
 *   garbled      200 with a body that is not the answer     truncated  200, then reset mid-body
 *   truncated503 503, then reset mid-body                  <status>   that status (409, 500, 502, 504, …)
 * A 3xx status also carries Location: /_redirect-target?to=<recipients>, a stand-in for another host.
 */
const FAULT = /fault-(reset|slowreset|garbled|truncated503|truncated|\d{3})/;
/** Faults that strike after the provider did its work: only the answer is lost. */
const PROCESSED = new Set(["reset", "slowreset", "garbled", "truncated"]);

function faultOf(recipients) {
  for (const r of recipients) {
    const m = FAULT.exec(String(r));
    if (m) return m[1];
  }
  return undefined;
}

/** @returns {Promise<boolean>} whether the fault answered (or killed) the request */
async function injectFault(fault, req, res, recipients) {
  const reset = () => req.socket.resetAndDestroy();
  const cutOff = (status) => {
    res.writeHead(status, { "content-type": "application/json", "content-length": "1000" });
    res.write('{"partial":');
    setTimeout(reset, 50);
  };
  if (fault === "reset") reset();
  else if (fault === "slowreset") setTimeout(reset, 300);
  else if (fault === "garbled") res.writeHead(200, { "content-type": "text/html" }).end("<html><body>502 upstream hiccup</body></html>");
  else if (fault === "truncated") cutOff(200);
  else if (fault === "truncated503") cutOff(503);
  else if (/^\d{3}$/.test(fault)) {
    const status = Number(fault);
    const body =
      status === 409
        ? {
            statusCode: 409,
            name: "concurrent_idempotent_requests",
            message: "Same idempotency key used while original request is still in progress.",
          }
        : { message: `stub: injected ${status}` };
    const location =
      status >= 300 && status < 400
        ? { location: `http://${req.headers.host}/_redirect-target?to=${encodeURIComponent(recipients.join(","))}` }
        : {};
    res.writeHead(status, { "content-type": "application/json", ...location }).end(JSON.stringify(body));
  } else return false;
  return true;
}

/**
 * @param {{ creds: any, smtpMessages: () => any[], faultSmtpLog: () => any[], sinkFaulty: { failNext: (status: number, count: number) => void } }} deps
 */
export async function startHttpStubs({ creds, smtpMessages, faultSmtpLog, sinkFaulty }) {
  /** @type {any[]} */
  const captured = [];
  /**
   * Resend's Idempotency-Key (https://resend.com/docs/dashboard/emails/idempotency-keys): a request
   * whose key was processed gets the first answer again, without sending; another body for the key
   * gets 409 invalid_idempotent_request.
   * @type {Map<string, { raw: string, answer: any }>}
   */
  const idempotency = new Map();
  const server = http.createServer((req, res) => {
    res.on("error", () => {});
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      serve(req, res, Buffer.concat(chunks)).catch((err) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ stub_error: String(err) }));
      });
    });
  });

  /** @param {any} answer */
  function send(res, answer) {
    if (res.destroyed) return;
    const body = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
    const headers = { ...(typeof answer.body === "string" ? {} : { "content-type": "application/json" }), ...answer.headers };
    res.writeHead(answer.status, headers).end(body);
  }

  /** @type {{ to: string, method: string, authorized: boolean }[]} requests that followed a 3xx fault's Location */
  const redirectHits = [];

  /** @type {string[]} each request's recipients, joined; never trimmed (tests are small) */
  const requestRecipients = [];

  async function serve(req, res, raw) {
    const url = new URL(req.url ?? "/", "http://stub");
    if (req.method === "GET" && url.pathname === "/_requests") {
      // How many requests named a recipient containing `to` (for counting an invocation's subrequests).
      const needle = url.searchParams.get("to") ?? "\u0000";
      return send(res, { status: 200, body: { count: requestRecipients.filter((r) => r.includes(needle)).length } });
    }
    if (url.pathname === "/_redirect-target") {
      const headers = req.headers;
      redirectHits.push({
        to: url.searchParams.get("to") ?? "",
        method: req.method ?? "",
        authorized: Boolean(headers.authorization || headers["x-postmark-server-token"]),
      });
      return send(res, { status: 200, body: { id: "redirected", results: [], data: [] } });
    }
    if (req.method === "GET" && url.pathname === "/_redirect-hits") {
      const needle = url.searchParams.get("to") ?? "\u0000";
      return send(res, { status: 200, body: redirectHits.filter((h) => h.to.includes(needle)) });
    }
    if (url.pathname === "/_captured") {
      // POST takes {provider, to: [...], brief}, for lists too long for a URL.
      const posted = req.method === "POST" ? (parseJson(raw) ?? {}) : undefined;
      const provider = posted ? posted.provider : url.searchParams.get("provider");
      const to = posted ? (posted.to ?? []) : url.searchParams.getAll("to");
      const hits = captured.filter(
        (c) => (!provider || c.provider === provider) && (to.length === 0 || to.some((t) => c.recipients.includes(t))),
      );
      // brief=1: without the request body, and with only the asked recipients' deliveries (big batches).
      if (posted ? posted.brief : url.searchParams.get("brief") === "1") {
        const asked = (d) => to.length === 0 || [...d.to, ...d.cc, ...d.bcc].some((a) => to.includes(a));
        return send(res, {
          status: 200,
          body: hits.map(({ body: _body, ...c }) => (c.delivered ? { ...c, delivered: c.delivered.filter(asked) } : c)),
        });
      }
      return send(res, { status: 200, body: hits });
    }
    if (req.method === "GET" && url.pathname === "/_smtp/messages") {
      const to = url.searchParams.get("to");
      return send(res, { status: 200, body: smtpMessages().filter((m) => !to || m.envelope.to.includes(to)) });
    }
    if (req.method === "GET" && url.pathname === "/_smtp/faults") {
      const to = url.searchParams.get("to");
      return send(res, { status: 200, body: faultSmtpLog().filter((m) => !to || m.to.includes(to)) });
    }
    if (req.method === "POST" && url.pathname === "/_sink/fail") {
      const { status, count } = parseJson(raw) ?? {};
      sinkFaulty.failNext(Number(status), Number(count));
      return send(res, { status: 204, body: "" });
    }
    const entry = Object.entries(HANDLERS).find(([, h]) => h.match(url.pathname));
    if (!entry || req.method !== "POST") return send(res, { status: 404, body: { message: "stub: no such endpoint" } });
    const [provider, handler] = entry;
    const out = await handler.handle(req, raw, creds, url.pathname);
    const record = {
      provider,
      path: url.pathname,
      headers: req.headers,
      body: out.parsed ?? parseJson(raw) ?? null,
      recipients: out.recipients ?? [],
      violations: out.violations ?? [],
      ...(out.delivered ? { delivered: out.delivered } : {}),
    };
    captured.push(record);
    requestRecipients.push(record.recipients.join(","));
    if (captured.length > 5000) captured.shift();
    if (!out.answer) return send(res, out);
    if (out.violations.length > 0) return send(res, out.invalid(`stub: ${out.violations.join("; ")}`));
    const key = out.idempotencyKey;
    const earlier = key === undefined ? undefined : idempotency.get(key);
    if (earlier) {
      record.replayed = earlier.raw === raw.toString("utf8");
      if (record.replayed) return send(res, earlier.answer);
      return send(res, {
        status: 409,
        body: {
          statusCode: 409,
          name: "invalid_idempotent_request",
          message: "Same idempotency key used with a different request payload. Change your idempotency key or payload.",
        },
      });
    }
    const remember = (answer) => {
      if (key !== undefined) idempotency.set(key, { raw: raw.toString("utf8"), answer });
      return answer;
    };
    const fault = faultOf(out.recipients);
    if (fault) {
      if (PROCESSED.has(fault)) remember(out.answer());
      if (await injectFault(fault, req, res, out.recipients)) return;
    }
    if (marked(out.recipients, "slow")) await new Promise((r) => setTimeout(r, SLOW_MS));
    if (marked(out.recipients, "throttle")) {
      const t = out.throttled?.() ?? { status: 429, body: { message: "Too many requests" } };
      return send(res, { ...t, headers: { ...t.headers, "retry-after": "7" } });
    }
    if (marked(out.recipients, "unavailable")) return send(res, { status: 503, body: { message: "Service Unavailable" } });
    const answer = out.answer();
    if (answer.status < 300) remember(answer);
    return send(res, answer);
  }

  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve(undefined));
      }),
  };
}
