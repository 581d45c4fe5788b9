// A minimal RESP2 client for redis-server, for the local Upstash REST endpoint (upstash-rest.mjs):
// an incremental reply reader, pipelined connections, and a small pool of them. Dev/test only.
import net from "node:net";

const POOL_SIZE = 4;
const CRLF = Buffer.from("\r\n");

/** A Redis error reply. Kept as a value (not thrown) so a pipeline can answer it in place. */
export class ReplyError {
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

export class RedisConnection {
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
export class Pool {
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
