// A local stand-in for Upstash's Redis REST API, in front of a real redis-server, so the official
// @upstash/redis and @upstash/ratelimit clients can run unchanged in dev and tests (Upstash has no
// local emulator). Dev/test only: never bundled into the worker.
//
// Wire format, as @upstash/redis 1.x speaks it (it only ever POSTs):
//   POST /            ["CMD", ...args]          200 {"result": …}   Redis error → 400 {"error": "ERR …"}
//   POST /pipeline    [["CMD", …], …]           200 [{"result"} | {"error"}, …] in order
//   POST /multi-exec  [["CMD", …], …]           same, run inside MULTI/EXEC; a queueing error → 400
//   Authorization: Bearer <token>, else 401 {"error":"Unauthorized"}.
//   Upstash-Encoding: base64 → every string in a result is base64 of its raw bytes (numbers and
//   null stay as they are), except a top-level "OK" status, which the client special-cases.
// Not served: GET /cmd/arg paths and /subscribe (SSE); the client doesn't use the former.
import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import net from "node:net";

const MAX_BODY = 10 * 1024 * 1024;
const POOL_SIZE = 4;
const CRLF = Buffer.from("\r\n");

// ---------------------------------------------------------------- RESP2 client

/** A Redis error reply. Kept as a value (not thrown) so a pipeline can answer it in place. */
class ReplyError {
  /** @param {string} message */
  constructor(message) {
    this.message = message;
  }
}

const INCOMPLETE = Symbol("incomplete");

/**
 * Incremental RESP2 reader. Status replies become JS strings and bulk replies Buffers, so the
 * encoder can tell a status "OK" from a stored "OK". It remembers how many bytes the unfinished
 * reply needs at least, so a multi-megabyte bulk isn't re-parsed on every TCP chunk.
 */
class RespReader {
  /** @param {(reply: unknown) => void} onReply */
  constructor(onReply) {
    this.onReply = onReply;
    /** @type {Buffer[]} */
    this.chunks = [];
    this.size = 0;
    this.need = 0;
    this.pos = 0;
    this.wantAt = 0;
  }

  /** @param {Buffer} chunk */
  push(chunk) {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size < this.need) return;
    const buf = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks);
    this.pos = 0;
    this.need = 0;
    while (this.pos < buf.length) {
      const start = this.pos;
      const reply = this.read(buf);
      if (reply === INCOMPLETE) {
        this.pos = start;
        this.need = this.wantAt - start;
        break;
      }
      this.onReply(reply);
    }
    const rest = buf.subarray(this.pos);
    this.chunks = rest.length ? [rest] : [];
    this.size = rest.length;
  }

  /** @param {Buffer} buf @returns {unknown} */
  read(buf) {
    const eol = buf.indexOf(CRLF, this.pos);
    if (eol < 0) {
      this.wantAt = buf.length + 1;
      return INCOMPLETE;
    }
    const type = buf[this.pos];
    const line = buf.toString("utf8", this.pos + 1, eol);
    this.pos = eol + 2;
    switch (type) {
      case 0x2b: // +
        return line;
      case 0x2d: // -
        return new ReplyError(line);
      case 0x3a: // :
        return Number(line);
      case 0x24: {
        // $
        const len = Number(line);
        if (len < 0) return null;
        if (this.pos + len + 2 > buf.length) {
          this.wantAt = this.pos + len + 2;
          return INCOMPLETE;
        }
        const value = buf.subarray(this.pos, this.pos + len);
        this.pos += len + 2;
        return value;
      }
      case 0x2a: {
        // *
        const n = Number(line);
        if (n < 0) return null;
        const items = new Array(n);
        for (let i = 0; i < n; i++) {
          const item = this.read(buf);
          if (item === INCOMPLETE) return INCOMPLETE;
          items[i] = item;
        }
        return items;
      }
      default:
        throw new Error(`RESP: unexpected type byte 0x${type?.toString(16)}`);
    }
  }
}

/** @param {(string | Buffer)[]} args */
function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(arg, "utf8");
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return parts;
}

class RedisConnection {
  /** @param {number} port */
  constructor(port) {
    /** @type {{ resolve: (v: unknown) => void, reject: (e: Error) => void }[]} */
    this.pending = [];
    this.closed = false;
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.setNoDelay(true);
    const reader = new RespReader((reply) => this.pending.shift()?.resolve(reply));
    this.socket.on("data", (chunk) => {
      try {
        reader.push(chunk);
      } catch (err) {
        this.socket.destroy(/** @type {Error} */ (err)); // out of sync: nothing after this can be trusted
      }
    });
    this.socket.on("error", (err) => this.fail(err));
    this.socket.on("close", () => this.fail(new Error("redis connection closed")));
  }

  /** @param {Error} err */
  fail(err) {
    this.closed = true;
    for (const p of this.pending.splice(0)) p.reject(err);
  }

  /**
   * One write for the whole batch: another request's commands can then only land before or after
   * it on this socket, never inside it (what keeps MULTI…EXEC intact on a shared connection).
   * @param {(string | Buffer)[][]} commands
   * @returns {Promise<unknown[]>}
   */
  send(commands) {
    if (commands.length === 0) return Promise.resolve([]);
    if (this.closed) return Promise.reject(new Error("redis connection closed"));
    const replies = commands.map(() => new Promise((resolve, reject) => this.pending.push({ resolve, reject })));
    this.socket.write(Buffer.concat(commands.flatMap(encodeCommand)));
    return Promise.all(replies);
  }

  close() {
    this.socket.destroy();
  }
}

/** A few shared, pipelined connections: an idle one if there is one, else the least busy. */
class Pool {
  /** @param {number} port */
  constructor(port) {
    this.port = port;
    /** @type {RedisConnection[]} */
    this.conns = [];
  }

  pick() {
    this.conns = this.conns.filter((c) => !c.closed);
    const idle = this.conns.find((c) => c.pending.length === 0);
    if (idle) return idle;
    if (this.conns.length < POOL_SIZE) {
      const conn = new RedisConnection(this.port);
      this.conns.push(conn);
      return conn;
    }
    return this.conns.reduce((a, b) => (b.pending.length < a.pending.length ? b : a));
  }

  close() {
    for (const c of this.conns) c.close();
    this.conns = [];
  }
}

// ---------------------------------------------------------------- command rules

// Commands that would change a shared connection's state (or its protocol) for everyone on it.
const REFUSED = new Set([
  "SUBSCRIBE",
  "PSUBSCRIBE",
  "SSUBSCRIBE",
  "UNSUBSCRIBE",
  "PUNSUBSCRIBE",
  "SUNSUBSCRIBE",
  "MONITOR",
  "MULTI",
  "EXEC",
  "DISCARD",
  "WATCH",
  "UNWATCH",
  "SELECT",
  "HELLO",
  "AUTH",
  "QUIT",
  "RESET",
  "CLIENT",
]);
// Commands that can park a connection: they get a connection of their own, so nobody queues behind.
const BLOCKING = new Set(["BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "WAIT", "WAITAOF"]);

/** @param {string[]} cmd */
function isBlocking(cmd) {
  const name = cmd[0].toUpperCase();
  if (BLOCKING.has(name)) return true;
  return (name === "XREAD" || name === "XREADGROUP") && cmd.some((a) => a.toUpperCase() === "BLOCK");
}

// ---------------------------------------------------------------- Lua scripts

// Upstash accepts a "#!lua flags=…" first line that stock Redis 7 rejects (unknown flags such as
// allow-key-locking). The line's text is dropped but its newline kept, so Lua error line numbers
// still match the client's script.
const SHEBANG = /^#!lua[^\n]*/;

/** @param {string} s */
const sha1 = (s) => createHash("sha1").update(s, "utf8").digest("hex");

/**
 * Clients compute EVALSHA's sha over the script they hold (shebang included), but Redis only
 * knows the sha of the stripped text. This maps the first to the second.
 */
class Scripts {
  constructor() {
    /** @type {Map<string, string>} sha1(original) → sha1 Redis knows */
    this.shas = new Map();
  }

  /** @param {string[]} cmd  the original script a command carries, if it has a shebang */
  shebangScript(cmd) {
    const name = cmd[0].toUpperCase();
    const script =
      name === "EVAL" || name === "EVAL_RO" ? cmd[1] : name === "SCRIPT" && cmd[1]?.toUpperCase() === "LOAD" ? cmd[2] : undefined;
    return script !== undefined && SHEBANG.test(script) ? script : undefined;
  }

  /**
   * SCRIPT LOAD each new stripped script before the batch runs, so an EVALSHA later in the same
   * pipeline (or any later request) finds it. A script that fails to compile stays unmapped; its
   * EVAL then reports the compile error itself.
   * @param {RedisConnection} conn @param {string[][]} commands
   */
  async preload(conn, commands) {
    /** @type {Map<string, string>} */
    const todo = new Map();
    for (const cmd of commands) {
      const script = this.shebangScript(cmd);
      if (script === undefined) continue;
      const sha = sha1(script);
      if (!this.shas.has(sha)) todo.set(sha, script.replace(SHEBANG, ""));
    }
    const loads = [...todo];
    const replies = await conn.send(loads.map(([, stripped]) => ["SCRIPT", "LOAD", stripped]));
    loads.forEach(([sha], i) => {
      const reply = replies[i];
      if (Buffer.isBuffer(reply)) this.shas.set(sha, reply.toString("latin1"));
    });
  }

  /**
   * The command as Redis must see it, plus a fix-up for its reply.
   * @param {string[]} cmd @returns {{ args: string[], fix?: (reply: unknown) => unknown }}
   */
  translate(cmd) {
    const name = cmd[0].toUpperCase();
    const args = [...cmd];
    if ((name === "EVAL" || name === "EVAL_RO") && args[1] !== undefined) {
      args[1] = args[1].replace(SHEBANG, "");
    } else if ((name === "EVALSHA" || name === "EVALSHA_RO") && args[1] !== undefined) {
      // An unknown sha goes through untouched, and Redis's own "NOSCRIPT No matching script…"
      // is what makes the clients fall back to EVAL.
      args[1] = this.shas.get(args[1].toLowerCase()) ?? args[1];
    } else if (name === "SCRIPT") {
      const sub = args[1]?.toUpperCase();
      const script = this.shebangScript(cmd);
      if (script !== undefined) {
        args[2] = script.replace(SHEBANG, "");
        const sha = sha1(script);
        // Answer the sha the client computed, the one it will send in EVALSHA.
        return { args, fix: (r) => (r instanceof ReplyError ? r : sha) };
      }
      if (sub === "EXISTS") return { args: args.map((a, i) => (i < 2 ? a : (this.shas.get(a.toLowerCase()) ?? a))) };
      if (sub === "FLUSH") return { args, fix: (r) => (r === "OK" && this.shas.clear(), r) };
    }
    return { args };
  }
}

// ---------------------------------------------------------------- HTTP

class HttpError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * A reply as JSON. Base64 covers statuses too (the client decodes every string it gets) except a
 * top-level "OK", which Upstash sends bare and the client keeps as is.
 * @param {unknown} v @param {boolean} b64 @param {boolean} top
 * @returns {unknown}
 */
function toJson(v, b64, top) {
  if (v === null || typeof v === "number") return v;
  if (Array.isArray(v)) return v.map((x) => toJson(x, b64, false));
  if (Buffer.isBuffer(v)) return b64 ? v.toString("base64") : v.toString("utf8");
  // A status, or an error nested in an array (a Lua table holding one): text either way.
  const text = v instanceof ReplyError ? v.message : String(v);
  return b64 && !(top && text === "OK") ? Buffer.from(text, "utf8").toString("base64") : text;
}

/** @param {unknown} r @param {boolean} b64 */
const entry = (r, b64) => (r instanceof ReplyError ? { error: r.message } : { result: toJson(r, b64, true) });

/** @param {http.ServerResponse} res @param {number} status @param {unknown} body */
function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The whole body, or a 413. An oversized body is still drained so the client gets to read the
 * 413 instead of a connection reset mid-upload.
 * @param {http.IncomingMessage} req @returns {Promise<Buffer>}
 */
function readBody(req) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () =>
      size > MAX_BODY ? reject(new HttpError(413, `ERR request body larger than ${MAX_BODY} bytes`)) : resolve(Buffer.concat(chunks)),
    );
    req.on("error", reject);
  });
}

/** @param {unknown} cmd @returns {cmd is (string | number | boolean)[]} */
const isCommand = (cmd) => Array.isArray(cmd) && cmd.length > 0 && cmd.every((a) => ["string", "number", "boolean"].includes(typeof a));

/**
 * @param {{ redisPort: number, token: string, port?: number, host?: string }} options
 * @returns {Promise<{ url: string, token: string, close: () => Promise<void> }>}
 */
export function startUpstashRest({ redisPort, token, port = 0, host = "127.0.0.1" }) {
  if (!token) throw new Error("startUpstashRest: a token is required");
  const pool = new Pool(redisPort);
  const scripts = new Scripts();
  const expected = Buffer.from(`Bearer ${token}`);

  /** @param {http.IncomingMessage} req */
  const authorized = (req) => {
    const given = Buffer.from(req.headers.authorization ?? "");
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  /**
   * Runs a batch on one connection, in order. Blocking commands get a connection of their own.
   * @param {string[][]} commands @param {boolean} transaction @returns {Promise<unknown[]>}
   */
  async function execute(commands, transaction) {
    const dedicated = commands.some(isBlocking) ? new RedisConnection(redisPort) : null;
    const conn = dedicated ?? pool.pick();
    try {
      await scripts.preload(conn, commands);
      const plan = commands.map((cmd) => {
        const name = cmd[0].toUpperCase();
        if (REFUSED.has(name)) return { refused: new ReplyError(`ERR Command is not available: '${cmd[0].toLowerCase()}'`) };
        return scripts.translate(cmd);
      });
      /** @param {unknown} r @param {number} i */
      const fix = (r, i) => plan[i]?.fix?.(r) ?? r;
      if (transaction) {
        const refused = plan.find((p) => p.refused)?.refused;
        if (refused) throw new HttpError(400, refused.message);
        const replies = await conn.send([["MULTI"], ...plan.map((p) => p.args ?? []), ["EXEC"]]);
        const exec = replies[replies.length - 1];
        if (!Array.isArray(exec)) {
          // EXECABORT: a command failed while queueing (arity, unknown command); name the cause.
          const cause = replies.slice(1, -1).find((r) => r instanceof ReplyError);
          const message = exec instanceof ReplyError ? exec.message : "EXECABORT Transaction aborted";
          throw new HttpError(400, cause ? `${message} ${cause.message}` : message);
        }
        return exec.map(fix);
      }
      const replies = await conn.send(plan.flatMap((p) => (p.args ? [p.args] : [])));
      let next = 0;
      return plan.map((p, i) => p.refused ?? fix(replies[next++], i));
    } finally {
      dedicated?.close();
    }
  }

  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
  async function handle(req, res) {
    if (!authorized(req)) return send(res, 401, { error: "Unauthorized" });
    if (req.method !== "POST") return send(res, 405, { error: "Method not allowed: this local endpoint only serves POST" });
    const path = new URL(req.url ?? "/", "http://upstash").pathname.replace(/\/+$/, "") || "/";
    if (path !== "/" && path !== "/pipeline" && path !== "/multi-exec") {
      return send(res, 404, { error: `ERR unsupported path ${path} (served: POST /, /pipeline, /multi-exec)` });
    }
    const raw = await readBody(req);
    let body;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch (err) {
      throw new HttpError(400, `ERR failed to parse request body as JSON: ${/** @type {Error} */ (err).message}`);
    }
    const b64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";

    if (path === "/") {
      if (!isCommand(body)) throw new HttpError(400, "ERR the body must be a non-empty JSON array of strings and numbers");
      const [reply] = await execute([body.map(String)], false);
      if (reply instanceof ReplyError) return send(res, 400, { error: reply.message });
      return send(res, 200, { result: toJson(reply, b64, true) });
    }
    if (!Array.isArray(body) || body.length === 0 || !body.every(isCommand)) {
      throw new HttpError(400, "ERR the body must be a non-empty JSON array of commands, each a non-empty array of strings and numbers");
    }
    const replies = await execute(
      body.map((cmd) => cmd.map(String)),
      path === "/multi-exec",
    );
    return send(
      res,
      200,
      replies.map((r) => entry(r, b64)),
    );
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (res.headersSent) return res.destroy();
      const status = err instanceof HttpError ? err.status : 500;
      send(res, status, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  server.keepAliveTimeout = 30_000;

  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(port, host, () => {
      const { port: bound } = /** @type {net.AddressInfo} */ (server.address());
      resolve({
        url: `http://${host}:${bound}`,
        token,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => {
              pool.close();
              done(undefined);
            });
          }),
      });
    });
  });
}
