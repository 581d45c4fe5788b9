// What the local Upstash REST endpoint (upstash-rest.mjs) does to commands before redis-server sees
// them: which it refuses, which get a connection of their own, and how Upstash-style Lua scripts are
// translated for stock Redis. Dev/test only.
import { createHash } from "node:crypto";
import { ReplyError } from "./redis-resp.mjs";

// Commands that would change a shared connection's state (or its protocol) for everyone on it.
export const REFUSED = new Set([
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
export function isBlocking(cmd) {
  const name = cmd[0].toUpperCase();
  if (BLOCKING.has(name)) return true;
  return (name === "XREAD" || name === "XREADGROUP") && cmd.some((a) => a.toUpperCase() === "BLOCK");
}

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
export class Scripts {
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
      if (sub === "FLUSH")
        return {
          args,
          fix: (r) => {
            if (r === "OK") this.shas.clear();
            return r;
          },
        };
    }
    return { args };
  }
}
