// A real SMTP server (the smtp-server package) standing in for a mail relay: no TLS, AUTH PLAIN and
// LOGIN against the test login. Captured mail is parsed with mailparser here, on the Node side, so
// the tests inside workerd can assert on structure (multipart/alternative, Message-ID, Date, …).
//   recipient containing "reject"   → 550 on RCPT TO       "throttle" → 452 on RCPT TO
//   sender containing "blocked"     → 550 on MAIL FROM     "busy"     → 451 on MAIL FROM
import net from "node:net";
import { SMTPServer } from "smtp-server";
import { simpleParser } from "mailparser";

const smtpError = (code, message) => Object.assign(new Error(message), { responseCode: code });

/** The MIME tree's leaves, read from the raw message: enough to assert the structure herald built. */
function partsOf(raw) {
  const [folded, ...rest] = raw.split(/\r?\n\r?\n/);
  const head = folded.replace(/\r?\n[ \t]+/g, " ");
  const body = rest.join("\r\n\r\n");
  const type = /^content-type:\s*([^;\r\n]+)(?:;[^\r\n]*boundary="?([^";\r\n]+)"?)?/im.exec(head);
  if (!type?.[2]) return [];
  return body
    .split(`--${type[2]}`)
    .slice(1, -1)
    .map((part) => {
      const headers = part.replace(/^\r?\n/, "").split(/\r?\n\r?\n/)[0];
      return {
        contentType: /^content-type:\s*([^\r\n]+)/im.exec(headers)?.[1]?.trim(),
        transferEncoding: /^content-transfer-encoding:\s*([^\r\n]+)/im.exec(headers)?.[1]?.trim(),
      };
    });
}

async function describe(raw, session) {
  const parsed = await simpleParser(raw);
  const addresses = (a) => (a ? (Array.isArray(a) ? a : [a]).flatMap((x) => x.value) : []);
  return {
    envelope: {
      from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
      to: session.envelope.rcptTo.map((r) => r.address),
    },
    user: session.user ?? null,
    messageId: parsed.messageId ?? null,
    date: parsed.date ? parsed.date.toISOString() : null,
    dateHeader: /^date:\s*([^\r\n]+)/im.exec(raw)?.[1] ?? null,
    from: addresses(parsed.from),
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    replyTo: addresses(parsed.replyTo),
    subject: parsed.subject ?? null,
    text: parsed.text ?? null,
    html: parsed.html || null,
    contentType: parsed.headers.get("content-type")?.value ?? null,
    parts: partsOf(raw),
    headers: Object.fromEntries(parsed.headerLines.map((h) => [h.key, h.line.slice(h.line.indexOf(":") + 1).trim()])),
    raw,
  };
}

/** @param {{ username: string, password: string }} creds */
export async function startSmtpStubs(creds) {
  /** @type {any[]} */
  const messages = [];
  const options = (authRequired, starttls = false) => ({
    secure: false,
    // With STARTTLS on, smtp-server upgrades with its bundled self-signed certificate.
    disabledCommands: starttls ? [] : ["STARTTLS"],
    authMethods: ["PLAIN", "LOGIN"],
    allowInsecureAuth: true,
    authOptional: !authRequired,
    logger: false,
    banner: "herald test relay",
    size: 5 * 1024 * 1024,
    onAuth(auth, _session, cb) {
      if (auth.username === creds.username && auth.password === creds.password) cb(null, { user: `${auth.method}:${auth.username}` });
      else cb(smtpError(535, "Authentication credentials invalid"));
    },
    onMailFrom(address, _session, cb) {
      if (address.address.includes("blocked")) return cb(smtpError(550, "Sender address rejected"));
      if (address.address.includes("busy")) return cb(smtpError(451, "Local error in processing, try again later"));
      cb();
    },
    onRcptTo(address, _session, cb) {
      if (address.address.includes("reject")) return cb(smtpError(550, "No such user here"));
      if (address.address.includes("throttle")) return cb(smtpError(452, "Too many recipients received this hour"));
      cb();
    },
    onData(stream, session, cb) {
      const chunks = [];
      stream.on("data", (c) => chunks.push(c));
      stream.on("end", () => {
        describe(Buffer.concat(chunks).toString("utf8"), session)
          .then((m) => {
            messages.push(m);
            if (messages.length > 1000) messages.shift();
            cb();
          })
          .catch((err) => cb(err));
      });
    },
  });

  const listen = async (server) => {
    await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
    return /** @type {import("node:net").AddressInfo} */ (server.server.address()).port;
  };
  const authServer = new SMTPServer(options(true));
  const openServer = new SMTPServer(options(false));
  const tlsServer = new SMTPServer(options(true, true));
  for (const server of [authServer, openServer, tlsServer]) server.on("error", () => {});
  const port = await listen(authServer);
  const openPort = await listen(openServer);
  const starttlsPort = await listen(tlsServer);

  return {
    port,
    openPort,
    starttlsPort,
    messages: () => messages,
    close: async () => {
      for (const server of [authServer, openServer, tlsServer]) await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}

/** Accepts TCP connections and never says a word: for connect-but-no-answer timeouts. */
export async function startSilentServer() {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve(undefined));
      }),
  };
}

/** A port nothing listens on: for connection-refused failures. */
export async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  await new Promise((resolve) => server.close(() => resolve(undefined)));
  return port;
}

/**
 * A scripted SMTP relay (plain, no AUTH) for failures around a message's end of data, which a real
 * server does not produce on demand. The first recipient of a transaction steers it:
 *   "fault-drop"       closes the connection after the end of data, without a reply
 *   "fault-reset"      resets the connection after the end of data, without a reply
 *   "fault-silent"     never answers the end of data
 *   "fault-450"        answers the end of data with 450 (the message was not taken)
 *   "fault-closedata"  answers DATA with 354, then closes before any of the message arrives
 *   "fault-rcptclose"  closes the connection on RCPT TO
 *   anything else      250, accepted
 * log() lists every transaction whose end of data arrived: { to, outcome }.
 */
export async function startFaultSmtp() {
  /** @type {{ to: string[], outcome: string }[]} */
  const log = [];
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    let buffer = "";
    let inData = false;
    let rcpt = [];
    const say = (line) => socket.write(`${line}\r\n`);
    const fault = () => /fault-([a-z0-9]+)/.exec(rcpt[0] ?? "")?.[1];
    say("220 herald fault relay");
    socket.on("data", (chunk) => {
      buffer += chunk.toString("latin1");
      for (;;) {
        if (inData) {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end < 0) return;
          buffer = buffer.slice(end + 5);
          inData = false;
          const f = fault();
          if (f === "drop") socket.destroy();
          else if (f === "reset") socket.resetAndDestroy();
          else if (f === "silent") {
            // no answer, ever
          } else if (f === "450") say("450 4.3.0 mailbox busy, try again later");
          else say("250 2.0.0 queued");
          log.push({ to: rcpt, outcome: f ?? "accepted" });
          if (log.length > 1000) log.shift();
          if (socket.destroyed) return;
          continue;
        }
        const eol = buffer.indexOf("\r\n");
        if (eol < 0) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.split(" ")[0].toUpperCase();
        if (verb === "EHLO") say("250-herald fault relay\r\n250 8BITMIME");
        else if (verb === "HELO" || verb === "NOOP") say("250 ok");
        else if (verb === "MAIL") {
          rcpt = [];
          say("250 ok");
        } else if (verb === "RCPT") {
          rcpt.push(/<([^>]*)>/.exec(line)?.[1] ?? "");
          if (fault() === "rcptclose") return void socket.destroy();
          say("250 ok");
        } else if (verb === "DATA") {
          say("354 end with <CRLF>.<CRLF>");
          if (fault() === "closedata") return void socket.end();
          // The message starts right after the DATA line: "\r\n.\r\n" finds the end, the leading
          // CRLF covers a message whose very first line is the terminator.
          buffer = `\r\n${buffer}`;
          inData = true;
        } else if (verb === "RSET") {
          rcpt = [];
          say("250 ok");
        } else if (verb === "QUIT") {
          say("221 bye");
          socket.end();
          return;
        } else say("502 command not implemented");
      }
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  return {
    port,
    log: () => log,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve(undefined));
      }),
  };
}
