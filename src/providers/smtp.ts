import { z } from "zod";
import { domainOf, parseMailbox } from "./address";
import { runBatch } from "./batch";
import { isLoopbackHost, TimeoutMs } from "./config";
import { accepted, failBatch, rejected } from "./errors";
import { buildMime, MimeError } from "./mime";
import { SmtpSession, type ConnectFn, type SmtpReply } from "./smtp-session";
import { ProviderError, type EmailProvider, type OutboundEmail, type SendResult } from "./types";
import { utf8 } from "../lib/encoding";

const HOST = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]+\]?$/;
const DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
export const DEFAULT_PORT = { starttls: 587, tls: 465, none: 25 } as const;

export const SmtpConfig = z
  .object({
    host: z.string().trim().regex(HOST, "must be a host name or IP address"),
    port: z.number().int().min(1).max(65535).optional(),
    /** starttls: upgrade on 587; tls: implicit TLS on 465; none: plaintext, loopback only. */
    security: z.enum(["starttls", "tls", "none"]).default("starttls"),
    helo_name: z.string().trim().regex(DOMAIN, "must be a host name").optional(),
    message_id_domain: z.string().trim().regex(DOMAIN, "must be a domain name").optional(),
    timeout_ms: TimeoutMs,
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.security === "none" && !isLoopbackHost(c.host)) {
      ctx.addIssue({ code: "custom", path: ["security"], message: 'plaintext ("none") is only allowed to a loopback host' });
    }
    if ((c.port ?? DEFAULT_PORT[c.security]) === 25 && !isLoopbackHost(c.host)) {
      ctx.addIssue({ code: "custom", path: ["port"], message: "Cloudflare Workers cannot connect to port 25; use 587 or 465" });
    }
    // Each of these hangs or fails every handshake: one side waits for TLS, the other for a greeting.
    if (c.port === 465 && c.security !== "tls") {
      ctx.addIssue({
        code: "custom",
        path: ["security"],
        message: 'port 465 speaks TLS from the first byte (RFC 8314): use security "tls"',
      });
    }
    if (c.port === 587 && c.security === "tls") {
      ctx.addIssue({
        code: "custom",
        path: ["security"],
        message: 'port 587 greets in plaintext and upgrades with STARTTLS: use security "starttls"',
      });
    }
  });

export const SmtpCredentials = z
  .object({
    username: z.string().min(1).max(500),
    password: z.string().min(1).max(500),
    method: z.enum(["plain", "login"]).optional(),
  })
  .strict()
  .nullish();

type Config = z.infer<typeof SmtpConfig>;
type Credentials = z.infer<typeof SmtpCredentials>;

function b64(text: string): string {
  let binary = "";
  for (const b of utf8(text)) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** A transient reply (4xx) stops the batch; how it is retried depends on what it says. */
function transient(step: string, reply: SmtpReply): ProviderError {
  const throttled = reply.code === 452 || /rate|too many|limit|throttl/i.test(reply.text);
  return new ProviderError(throttled ? "rate_limited" : "unavailable", `SMTP ${step}: ${reply.text}`);
}

/** A refusal inside one email's transaction: 5xx rejects that email, 4xx stops the batch. */
function refusal(email: OutboundEmail, step: string, reply: SmtpReply): SendResult {
  if (reply.code === 530) throw new ProviderError("auth", `SMTP ${step}: ${reply.text}`);
  if (reply.code >= 500) return rejected(email.id, `SMTP ${step} refused: ${reply.text}`);
  throw transient(step, reply);
}

function want(reply: SmtpReply, codes: number[], step: string): void {
  if (codes.includes(reply.code)) return;
  if (reply.code >= 400 && reply.code < 500) throw transient(step, reply);
  throw new ProviderError("unavailable", `SMTP ${step}: ${reply.text}`);
}

/** RFC 5321 §4.5.2: a line that starts with "." gets another, so it cannot end the data early. */
export function dotStuff(raw: string): string {
  const body = raw.endsWith("\r\n") ? raw : `${raw}\r\n`;
  return `\r\n${body}`.replace(/\r\n\./g, "\r\n..").slice(2);
}

async function hello(session: SmtpSession, name: string): Promise<Map<string, string>> {
  const reply = await session.command(`EHLO ${name}`, "EHLO");
  if (reply.code === 250) {
    const ext = new Map<string, string>();
    for (const line of reply.lines.slice(1)) {
      const [keyword, ...params] = line.trim().split(/\s+/);
      if (keyword) ext.set(keyword.toUpperCase(), params.join(" ").toUpperCase());
    }
    return ext;
  }
  // An old server without ESMTP: HELO still works for plain, unauthenticated submission.
  if (reply.code >= 500) {
    want(await session.command(`HELO ${name}`, "HELO"), [250], "HELO");
    return new Map();
  }
  throw transient("EHLO", reply);
}

async function authenticate(session: SmtpSession, ext: Map<string, string>, creds: NonNullable<Credentials>): Promise<void> {
  const offered = (ext.get("AUTH") ?? "").split(/\s+/);
  const method = creds.method ?? (offered.includes("PLAIN") ? "plain" : "login");
  if (!offered.includes(method.toUpperCase())) {
    throw new ProviderError("misconfigured", `the SMTP server does not offer AUTH ${method.toUpperCase()}`);
  }
  const check = (reply: SmtpReply, codes: number[]) => {
    if (codes.includes(reply.code)) return;
    if (reply.code >= 500) throw new ProviderError("auth", `the SMTP server refused the credentials: ${reply.text}`);
    throw transient("AUTH", reply);
  };
  if (method === "plain") {
    check(await session.command(`AUTH PLAIN ${b64(`\0${creds.username}\0${creds.password}`)}`, "AUTH PLAIN"), [235]);
    return;
  }
  check(await session.command("AUTH LOGIN", "AUTH LOGIN"), [334]);
  check(await session.command(b64(creds.username), "AUTH LOGIN username"), [334]);
  check(await session.command(b64(creds.password), "AUTH LOGIN password"), [235]);
}

async function transaction(session: SmtpSession, email: OutboundEmail, ext: Map<string, string>, config: Config): Promise<SendResult> {
  let mime: ReturnType<typeof buildMime>;
  try {
    mime = buildMime(email, { messageIdDomain: config.message_id_domain });
  } catch (err) {
    if (err instanceof MimeError) return rejected(email.id, err.message);
    throw err;
  }
  const limit = Number(ext.get("SIZE") || 0);
  if (limit > 0 && mime.raw.length > limit) return rejected(email.id, `the message is larger than the server's limit of ${limit} bytes`);

  let reply = await session.command(`MAIL FROM:<${parseMailbox(email.from)!.email}>`, "MAIL FROM");
  if (reply.code !== 250) return refusal(email, "MAIL FROM", reply);
  for (const rcpt of [...email.to, ...(email.cc ?? []), ...(email.bcc ?? [])]) {
    reply = await session.command(`RCPT TO:<${parseMailbox(rcpt)!.email}>`, "RCPT TO");
    if (reply.code !== 250 && reply.code !== 251) return refusal(email, "RCPT TO", reply);
  }
  reply = await session.command("DATA");
  if (reply.code !== 354) return refusal(email, "DATA", reply);
  // Until the terminating "." is sent the server cannot accept the message, so every failure up to
  // here is safe to retry. From the "." until its reply, a failure may hide an accepted message.
  await session.write(dotStuff(mime.raw), "message data");
  await session.quiet("the end of data");
  try {
    await session.write(".\r\n", "end of data");
    reply = await session.reply("end of data");
  } catch (err) {
    const why = err instanceof ProviderError ? err.message : "unexpected error";
    throw new ProviderError("ambiguous", `${why}, after the whole message was sent; the server may have accepted it`, undefined, [
      email.id,
    ]);
  }
  // RFC 5321 §4.2.1: 2yz is a positive completion, 4yz and 5yz mean the message was not accepted.
  if (reply.code >= 200 && reply.code < 300) return accepted(email.id, mime.messageId);
  if (reply.code >= 400) return refusal(email, "end of data", reply);
  throw new ProviderError("ambiguous", `SMTP end of data: unexpected reply ${reply.text}`, undefined, [email.id]);
}

export function createSmtpProvider(config: Config, credentials: Credentials, connect: ConnectFn): EmailProvider {
  const port = config.port ?? DEFAULT_PORT[config.security];
  const where = `${config.host}:${port}`;
  const timeoutMs = config.timeout_ms ?? 15_000;
  const secureTransport = config.security === "tls" ? "on" : config.security === "starttls" ? "starttls" : "off";

  /** One connection per batch: a transaction per email, RSET between them. */
  async function sendChunk(emails: OutboundEmail[]): Promise<SendResult[]> {
    let socket: Socket;
    try {
      socket = connect({ hostname: config.host.replace(/^\[|\]$/g, ""), port }, { secureTransport, allowHalfOpen: false });
    } catch {
      throw new ProviderError("unavailable", `could not connect to ${where}`);
    }
    const session = new SmtpSession(socket, timeoutMs, where);
    const settled: (SendResult | undefined)[] = emails.map(() => undefined);
    try {
      await session.opened();
      want(await session.reply("greeting"), [220], "greeting");
      const name = config.helo_name ?? domainOf(parseMailbox(emails[0]!.from)?.email ?? "") ?? "localhost";
      let ext = await hello(session, name);
      if (config.security === "starttls") {
        if (!ext.has("STARTTLS")) throw new ProviderError("misconfigured", `${where} does not offer STARTTLS`);
        want(await session.command("STARTTLS"), [220], "STARTTLS");
        session.upgrade();
        ext = await hello(session, name);
      }
      if (credentials) await authenticate(session, ext, credentials);
      for (const [i, email] of emails.entries()) {
        if (i > 0) want(await session.command("RSET"), [250], "RSET");
        settled[i] = await transaction(session, email, ext, config);
      }
      // The mail is already accepted; a slow or missing goodbye changes nothing.
      await session.command("QUIT").catch(() => undefined);
    } catch (err) {
      // Past an email's end of data, the transaction itself turned a failure into an ambiguous one;
      // anything unexpected elsewhere happened before that point.
      const failure = err instanceof ProviderError ? err : new ProviderError("unavailable", `SMTP to ${where} failed unexpectedly`);
      failBatch(failure, settled);
    } finally {
      await session.close();
    }
    return settled as SendResult[];
  }

  return { kind: "smtp", maxBatchSize: 50, send: (batch) => runBatch(batch, 50, sendChunk) };
}
