// A local receiver for herald's outbound webhooks, started by the global setup (in Node). It records
// every request it gets (path, headers, raw body and the status it answered) so the tests can check
// the signature over exactly the bytes that arrived. Paths choose its behaviour, and end in a tag so
// parallel tests never see each other's requests:
//   POST /ok/<tag>                        200
//   POST /status/<code>/<tag>             always <code>
//   POST /fail-first/<n>/<code>/<tag>     <code> to the first <n> requests for <tag>, then 200
//   POST /redirect/<tag>                  302 to /ok/<tag>
//   POST /redirect/<code>/<tag>           <code> (301, 303, 307, 308…) to /ok/<tag>
//   POST /long-body/<tag>                 500 with a body of 199 "x", an emoji and more (a code point
//                                         split by a clip at 200 UTF-16 units)
//   GET  /_received?tag=<tag>             the recorded requests for <tag>, oldest first
//
// This file is also seen by the worker's typecheck, which has no Node types: node:http is loaded
// dynamically and the few parts of it used here are typed below.

export interface WebhookReceiverInfo {
  /** http://127.0.0.1:<port>, without a trailing slash. */
  url: string;
}

export interface ReceivedWebhook {
  tag: string;
  path: string;
  method: string;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: string;
  /** The status the receiver answered. */
  answered: number;
  receivedAt: number;
}

declare module "vitest" {
  export interface ProvidedContext {
    webhookReceiver: WebhookReceiverInfo;
  }
}

interface NodeRequest {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  on(event: "end", listener: () => void): unknown;
}

interface NodeResponse {
  writeHead(status: number, headers?: Record<string, string>): NodeResponse;
  end(body?: string): void;
}

interface NodeServer {
  listen(port: number, host: string, callback: () => void): void;
  address(): { port: number } | string | null;
  close(callback: (err?: Error) => void): void;
  closeAllConnections?: () => void;
}

const NODE_HTTP: string = "node:http";

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export async function startWebhookReceiver(): Promise<{ info: WebhookReceiverInfo; close: () => Promise<void> }> {
  const http = (await import(/* @vite-ignore */ NODE_HTTP)) as {
    createServer(handler: (req: NodeRequest, res: NodeResponse) => void): NodeServer;
  };
  const received = new Map<string, ReceivedWebhook[]>();
  const seen = new Map<string, number>();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://receiver");
    if (req.method === "GET" && url.pathname === "/_received") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(received.get(url.searchParams.get("tag") ?? "") ?? []));
      return;
    }
    const chunks: Uint8Array[] = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const parts = url.pathname.split("/").filter(Boolean);
      const tag = parts[parts.length - 1] ?? "";
      const count = (seen.get(tag) ?? 0) + 1;
      seen.set(tag, count);
      let status = 404;
      let location: string | undefined;
      if (parts[0] === "ok" && parts.length === 2) status = 200;
      else if (parts[0] === "status" && parts.length === 3) status = Number(parts[1]);
      else if (parts[0] === "fail-first" && parts.length === 4) status = count <= Number(parts[1]) ? Number(parts[2]) : 200;
      else if (parts[0] === "redirect" && (parts.length === 2 || parts.length === 3)) {
        status = parts.length === 3 ? Number(parts[1]) : 302;
        location = `/ok/${tag}`;
      }
      const longBody = parts[0] === "long-body" && parts.length === 2;
      if (longBody) status = 500;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
      const record: ReceivedWebhook = {
        tag,
        path: url.pathname,
        method: req.method ?? "",
        headers,
        body: new TextDecoder().decode(concat(chunks)),
        answered: status,
        receivedAt: Date.now(),
      };
      received.set(tag, [...(received.get(tag) ?? []), record]);
      res
        .writeHead(status, { "content-type": "text/plain", ...(location ? { location } : {}) })
        .end(
          longBody
            ? `${"x".repeat(199)}\u{1F600} and more`
            : status >= 200 && status < 300
              ? "ok"
              : `receiver says ${status} (request ${count})`,
        );
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("webhook receiver did not bind a port");
  return {
    info: { url: `http://127.0.0.1:${address.port}` },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
