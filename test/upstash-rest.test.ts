// The local Upstash REST endpoint (scripts/lib/upstash-rest.mjs) driven by the official clients,
// from inside workerd as a worker would use them. If the clients accept it here, code written
// against Upstash can be tested locally against a real redis-server.
import { env } from "cloudflare:workers";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis/cloudflare";
import { beforeAll, describe, expect, it } from "vitest";

type TestEnv = Env & { TEST_UPSTASH_URL: string; TEST_UPSTASH_TOKEN: string };
const URL_ = (env as TestEnv).TEST_UPSTASH_URL;
const TOKEN = (env as TestEnv).TEST_UPSTASH_TOKEN;
const missing = !URL_;
if (missing) console.warn("[upstash-rest.test] skipped: redis-server is not installed (apt-get install -y redis-server)");

/** A fresh key prefix per test, so nothing is shared between tests or runs. */
const prefix = () => `t:${crypto.randomUUID().slice(0, 12)}:`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A raw request to the endpoint, for what the client hides (status codes, wire shapes). */
async function raw(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${URL_}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  // One answer, or a pipeline's or transaction's array of them (compared whole).
  return { status: res.status, body: (await res.json()) as { result?: unknown; error?: string } };
}

describe.skipIf(missing)("local Upstash REST endpoint", () => {
  // The client's default is base64 responses; false is plain JSON strings. Both must round-trip.
  describe.each([
    { encoding: "base64 (default)", redis: () => new Redis({ url: URL_, token: TOKEN }) },
    { encoding: "none", redis: () => new Redis({ url: URL_, token: TOKEN, responseEncoding: false }) },
  ])("official @upstash/redis client, response encoding $encoding", ({ redis: make }) => {
    // Made in a hook, not at collection: a skipped run must not build clients without a URL.
    let redis: Redis;
    beforeAll(() => {
      redis = make();
    });

    it("set/get/incr/expire/ttl", async () => {
      const p = prefix();
      expect(await redis.set(`${p}s`, "hello")).toBe("OK");
      expect(await redis.get(`${p}s`)).toBe("hello");
      expect(await redis.get(`${p}none`)).toBeNull();
      expect(await redis.incr(`${p}n`)).toBe(1);
      expect(await redis.incrby(`${p}n`, 41)).toBe(42);
      expect(await redis.get(`${p}n`)).toBe(42); // the client JSON-parses what it reads
      expect(await redis.ttl(`${p}n`)).toBe(-1);
      expect(await redis.expire(`${p}n`, 100)).toBe(1);
      const ttl = await redis.ttl(`${p}n`);
      expect(ttl).toBeGreaterThan(90);
      expect(ttl).toBeLessThanOrEqual(100);
      expect(await redis.set(`${p}ex`, "v", { ex: 60 })).toBe("OK");
      expect(await redis.pttl(`${p}ex`)).toBeGreaterThan(50_000);
      expect(await redis.ttl(`${p}none`)).toBe(-2);
    });

    it("mset/mget keep control characters, unicode and JSON values intact", async () => {
      const p = prefix();
      const values: Record<string, unknown> = {
        [`${p}bin`]: "\u0000\u0001\u0002\u007f\u0080\u00ff binary-ish",
        [`${p}uni`]: "naïve café, 日本語, emoji 🎉👩🏽‍💻",
        [`${p}ws`]: "line1\r\nline2\ttab",
        [`${p}ok`]: "OK", // a stored "OK" is a bulk string, not the status the client special-cases
        [`${p}obj`]: { a: 1, s: "ü", nested: [true, null] },
      };
      expect(await redis.mset(values)).toBe("OK");
      const keys = Object.keys(values);
      expect(await redis.mget(...keys, `${p}missing`)).toEqual([...Object.values(values), null]);
      expect(await redis.strlen(`${p}uni`)).toBe(new TextEncoder().encode(values[`${p}uni`] as string).length);
    });

    it("hset/hgetall", async () => {
      const p = prefix();
      expect(await redis.hset(`${p}h`, { name: "Zoë", count: 3, tags: ["a", "b"] })).toBe(3);
      expect(await redis.hgetall(`${p}h`)).toEqual({ name: "Zoë", count: 3, tags: ["a", "b"] });
      expect(await redis.hgetall(`${p}none`)).toBeNull();
    });

    it("pipeline() runs in order and reports per-command errors", async () => {
      const p = prefix();
      const results = await redis
        .pipeline()
        .set(`${p}a`, 1)
        .incr(`${p}a`)
        .get(`${p}a`)
        .lpush(`${p}l`, "x", "y")
        .lrange(`${p}l`, 0, -1)
        .exec();
      expect(results).toEqual(["OK", 2, 2, 2, ["y", "x"]]);

      const mixed = await redis.pipeline().set(`${p}s`, "text").incr(`${p}s`).get(`${p}s`).exec({ keepErrors: true });
      expect(mixed.map((r) => r.error)).toEqual([undefined, "ERR value is not an integer or out of range", undefined]);
      expect(mixed[2]?.result).toBe("text");
      await expect(redis.pipeline().incr(`${p}s`).exec()).rejects.toThrow(/Command 1 \[ incr \] failed: ERR value is not an integer/);
    });

    it("multi() runs as a transaction", async () => {
      const p = prefix();
      const results = await redis.multi().set(`${p}a`, 5).incr(`${p}a`).hset(`${p}h`, { f: "é" }).hget(`${p}h`, "f").exec();
      expect(results).toEqual(["OK", 6, 1, "é"]);
      // A runtime error inside EXEC fails only that command; the others still apply.
      await redis.set(`${p}s`, "text");
      const mixed = await redis.multi().incr(`${p}s`).incr(`${p}a`).exec({ keepErrors: true });
      expect(mixed[0]?.error).toMatch(/not an integer/);
      expect(mixed[1]?.result).toBe(7);
    });

    it("eval accepts a '#!lua flags=…' first line that stock Redis rejects", async () => {
      const p = prefix();
      const script = "#!lua flags=allow-key-locking\nreturn {redis.call('INCRBY', KEYS[1], ARGV[1]), ARGV[2]}";
      expect(await redis.eval(script, [`${p}n`], [5, "ß"])).toEqual([5, "ß"]);
      expect(await redis.eval(script, [`${p}n`], [5, "ß"])).toEqual([10, "ß"]);
      // The shebang's line is blanked, not removed, so Lua error line numbers match the client's text.
      await expect(redis.eval("#!lua flags=no-writes\nlocal a = 1\nreturn a +", [], [])).rejects.toThrow(/user_script:3:/);
    });

    it("evalsha: NOSCRIPT for an unknown sha, then the EVAL fallback makes the client's sha work", async () => {
      const p = prefix();
      // Unique text, so the sha is unknown to this redis whatever ran before.
      const source = `#!lua flags=allow-key-locking\n-- ${p}\nreturn redis.call('INCR', KEYS[1])`;
      const sha = await sha1(source);
      expect(await redis.scriptExists(sha)).toEqual([0]);
      await expect(redis.evalsha(sha, [`${p}n`], [])).rejects.toThrow(/NOSCRIPT/);

      const script = redis.createScript<number>(source);
      expect(await script.exec([`${p}n`], [])).toBe(1); // evalsha → NOSCRIPT → eval
      expect(await redis.scriptExists(sha)).toEqual([1]);
      expect(await redis.evalsha(sha, [`${p}n`], [])).toBe(2);
      expect(await script.exec([`${p}n`], [])).toBe(3);
    });

    it("SCRIPT LOAD answers the sha of the script as sent, shebang included", async () => {
      const p = prefix();
      const source = `#!lua flags=allow-key-locking\n-- ${p}\nreturn ARGV[1] .. '!'`;
      const sha = await sha1(source);
      expect(await redis.scriptLoad(source)).toBe(sha);
      expect(await redis.evalsha(sha, [], ["hi"])).toBe("hi!");
      // Without a shebang nothing is rewritten: Redis's own sha is the client's.
      const plain = `return '${p}'`;
      expect(await redis.scriptLoad(plain)).toBe(await sha1(plain));
    });

    it("a Redis error surfaces as a thrown error", async () => {
      const p = prefix();
      await redis.set(`${p}s`, "not a number");
      await expect(redis.incr(`${p}s`)).rejects.toThrow(/ERR value is not an integer or out of range/);
      await expect(redis.lpush(`${p}s`, "x")).rejects.toThrow(/WRONGTYPE/);
    });
  });

  describe("official @upstash/ratelimit client", () => {
    const WINDOW = 2_000;
    /** Start just after a window boundary, so a short test can't straddle two windows. */
    const alignToWindow = () => sleep(WINDOW - (Date.now() % WINDOW) + 30);

    // No ephemeral cache (every call reaches Redis) and no timeout (a slow call must fail, not
    // silently pass as "success: true, reason: timeout").
    const limiter = (algo: ReturnType<typeof Ratelimit.fixedWindow>) =>
      new Ratelimit({
        redis: new Redis({ url: URL_, token: TOKEN }),
        limiter: algo,
        prefix: `rl:${crypto.randomUUID()}`,
        ephemeralCache: false,
        timeout: 0,
      });

    it("fixedWindow: exhausts the limit, then recovers in the next window", async () => {
      const rl = limiter(Ratelimit.fixedWindow(3, "2 s"));
      await alignToWindow();
      const seen = [];
      for (let i = 0; i < 4; i++) seen.push(await rl.limit("user-1"));
      expect(seen.map((r) => [r.success, r.remaining, r.limit])).toEqual([
        [true, 2, 3],
        [true, 1, 3],
        [true, 0, 3],
        [false, 0, 3],
      ]);
      const reset = seen[3]!.reset;
      expect(reset % WINDOW).toBe(0);
      expect(reset).toBeGreaterThan(Date.now());
      expect(reset - Date.now()).toBeLessThanOrEqual(WINDOW);
      expect((await rl.limit("user-2")).success).toBe(true); // identifiers are independent

      await sleep(reset - Date.now() + 30);
      const after = await rl.limit("user-1");
      expect([after.success, after.remaining]).toEqual([true, 2]);
      expect(after.reset).toBe(reset + WINDOW);
    });

    it("slidingWindow: exhausts the limit, then recovers as the window slides", async () => {
      const rl = limiter(Ratelimit.slidingWindow(3, "2 s"));
      await alignToWindow();
      const seen = [];
      for (let i = 0; i < 4; i++) seen.push(await rl.limit("user-1"));
      expect(seen.map((r) => [r.success, r.remaining])).toEqual([
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ]);
      const reset = seen[3]!.reset;
      expect(reset % WINDOW).toBe(0);
      expect(reset - Date.now()).toBeLessThanOrEqual(WINDOW);
      expect((await rl.getRemaining("user-1")).remaining).toBe(0);

      // Just after the boundary the previous window still weighs ~3 × (1 − elapsed share): two slots
      // are taken, so exactly one request passes.
      await sleep(reset - Date.now() + 30);
      const next = [await rl.limit("user-1"), await rl.limit("user-1")];
      expect(next.map((r) => [r.success, r.remaining])).toEqual([
        [true, 0],
        [false, 0],
      ]);
    });
  });

  describe("wire protocol", () => {
    it("a wrong or missing token is a 401, and the client throws", async () => {
      const bad = new Redis({ url: URL_, token: "wrong-token", retry: false });
      await expect(bad.get("anything")).rejects.toThrow(/Unauthorized/);
      const res = await fetch(URL_, { method: "POST", body: JSON.stringify(["PING"]) });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: "Unauthorized" });
    });

    it("answers single commands, errors and base64 the way Upstash does", async () => {
      const p = prefix();
      expect(await raw("/", ["SET", `${p}k`, "héllo"])).toEqual({ status: 200, body: { result: "OK" } });
      expect(await raw("/", ["GET", `${p}k`])).toEqual({ status: 200, body: { result: "héllo" } });
      expect(await raw("/", ["GET", `${p}k`], { "Upstash-Encoding": "base64" })).toEqual({ status: 200, body: { result: "aMOpbGxv" } });
      expect(await raw("/", ["INCR", `${p}k`])).toEqual({ status: 400, body: { error: "ERR value is not an integer or out of range" } });
      // Raw bytes survive base64 exactly; numbers and nil are never encoded, nested strings are.
      await raw("/", ["EVAL", "redis.call('SET', KEYS[1], string.char(0, 1, 255)) return 1", 1, `${p}b`]);
      expect((await raw("/", ["GET", `${p}b`], { "Upstash-Encoding": "base64" })).body).toEqual({ result: "AAH/" });
      const nested = await raw("/", ["EVAL", "return {1, 'OK', {'x', 2}, false}", 0], { "Upstash-Encoding": "base64" });
      expect(nested.body).toEqual({ result: [1, "T0s=", ["eA==", 2], null] });
    });

    it("pipeline and multi-exec answer one entry per command, in order", async () => {
      const p = prefix();
      const pipeline = await raw("/pipeline", [
        ["SET", `${p}a`, 1],
        ["INCR", `${p}a`],
        ["HGET", `${p}a`, "f"],
        ["GET", `${p}a`],
      ]);
      expect(pipeline.status).toBe(200);
      expect(pipeline.body).toEqual([{ result: "OK" }, { result: 2 }, { error: expect.stringMatching(/^WRONGTYPE/) }, { result: "2" }]);
      const multi = await raw(
        "/multi-exec",
        [
          ["INCR", `${p}a`],
          ["GET", `${p}a`],
        ],
        { "Upstash-Encoding": "base64" },
      );
      expect(multi.body).toEqual([{ result: 3 }, { result: "Mw==" }]);
      // A command that fails while queueing aborts the whole transaction: nothing is applied.
      const aborted = await raw("/multi-exec", [
        ["INCR", `${p}a`],
        ["SET", `${p}a`],
      ]);
      expect(aborted.status).toBe(400);
      expect(aborted.body.error).toMatch(/^EXECABORT .*wrong number of arguments/);
      expect((await raw("/", ["GET", `${p}a`])).body).toEqual({ result: "3" });
    });

    it("rejects malformed and oversized bodies with clean JSON errors", async () => {
      for (const body of ["{not json", "{}", "[]", "[[]]", '["SET", {"a":1}]']) {
        const res = await raw("/", body);
        expect(res.status, body).toBe(400);
        expect(res.body.error, body).toMatch(/^ERR /);
      }
      expect((await raw("/pipeline", '[["PING"], "PING"]')).status).toBe(400);
      expect((await raw("/nope", ["PING"])).status).toBe(404);
      // Commands that would change the shared connection's state are refused, not forwarded.
      expect(await raw("/", ["SELECT", "1"])).toEqual({ status: 400, body: { error: "ERR Command is not available: 'select'" } });
      const big = await raw("/", JSON.stringify(["SET", "k", "x".repeat(10 * 1024 * 1024)]));
      expect(big.status).toBe(413);
      expect(big.body.error).toMatch(/larger than/);
    });
  });
});
