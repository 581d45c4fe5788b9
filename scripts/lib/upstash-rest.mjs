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
import { timingSafeEqual } from "node:crypto";
import http from "node:http";
import { Pool, RedisConnection, ReplyError } from "./redis-resp.mjs";
import { isBlocking, REFUSED, Scripts } from "./upstash-commands.mjs";

const MAX_BODY = 10 * 1024 * 1024;

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
      const { port: bound } = /** @type {import("node:net").AddressInfo} */ (server.address());
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
