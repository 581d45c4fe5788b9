// HTTP stand-in handlers (see http-stubs.mjs): {match(path), handle(req, raw, creds, path)} for Mailgun
// and SES v2, which take one email a request.
import { randomUUID } from "node:crypto";
import { checkSigV4 } from "./sigv4-check.mjs";
import { isStr, marked, parseJson } from "./http-util.mjs";

/** https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/messages */
export const mailgun = {
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
};

/** https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html */
export const ses = {
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
};
