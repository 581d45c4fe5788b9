// HTTP stand-ins for Resend, Postmark, SendGrid, Mailgun and SES v2. Each one checks the request
// shape its provider documents (path, auth, content type, required fields; SES: the SigV4
// signature) and answers in that provider's format. Recipients steer the answer:
//   "throttle"    → 429 with Retry-After: 7         "unavailable" → 503
//   "slow"        → answers after 1.5 s              "reject"      → that email is refused
//   "fault-<f>"   → a failure that may hide an accepted request, or may not (see http-faults.mjs)
// POST /sink speaks herald's sink wire format (scripts/lib/sink-server.mjs), so the sink adapter
// meets the same faults. Every request is captured; GET /_captured?provider=&to= returns those
// naming a recipient (several to= return those naming any of them; brief=1 leaves out the body;
// POST {provider, to: [...], brief} does the same for long lists).
// A 3xx fault ("fault-307") carries a Location to /_redirect-target on this server, which records
// whatever reaches it: GET /_redirect-hits?to= counts the requests that followed a redirect there.
import http from "node:http";
import { postmark, resend, sink } from "./http-batch-apis.mjs";
import { PROCESSED, faultOf, injectFault } from "./http-faults.mjs";
import { mailgun, ses } from "./http-mailgun-ses.mjs";
import { sendgrid } from "./http-sendgrid.mjs";
import { marked, parseJson } from "./http-util.mjs";

export const SLOW_MS = 1500;

/**
 * Each handler: (req, raw body, creds) → { recipients, violations, answer(rejectedRecipients) } or a
 * direct { status, headers, body } for auth and routing failures.
 */
const HANDLERS = { sink, resend, postmark, sendgrid, mailgun, ses };

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
