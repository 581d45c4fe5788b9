// HTTP stand-in handlers (see http-stubs.mjs): {match(path), handle(req, raw, creds, path)} for SendGrid's
// v3 mail/send, one request of personalizations.
import { randomUUID } from "node:crypto";
import { isStr, marked, parseJson } from "./http-util.mjs";

/**
 * https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send and its errors page:
 * up to 1,000 personalizations and 1,000 recipients (to + cc + bcc) a request, each address once
 * across them; a personalization's subject, headers, substitutions (strings, at most 10,000
 * bytes) and custom_args (at most 10,000 bytes) override the message's. `delivered` is what each
 * personalization's recipients would get: substitutions applied to its subject and content.
 */
export const sendgrid = {
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
      if (!Array.isArray(p?.to) || p.to.length < 1 || all.some((t) => !isStr(t?.email))) v.push(`personalizations.${i}.to needs [{email}]`);
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
};
