import { problemCatalog } from "../../errors";

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, unknown>[];
  parameters?: { name: string; in: string; required?: boolean; description?: string }[];
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, { description?: string }>;
}

interface OpenApiDoc {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, Operation>>;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);

/** One security requirement as "scheme (scope, …)+scheme": the scopes are what the route's requireScope demands. */
function requirement(schemes: Record<string, unknown>): string {
  return Object.entries(schemes)
    .map(([scheme, scopes]) => (Array.isArray(scopes) && scopes.length > 0 ? `${scheme} (${scopes.join(", ")})` : scheme))
    .join("+");
}

/**
 * A self-contained reference page rendered from the OpenAPI document: no scripts or assets from
 * elsewhere, so it works offline and under a strict CSP.
 */
export function renderDocsPage(doc: OpenApiDoc): string {
  const ops: string[] = [];
  for (const [path, methods] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters ?? [])
        .map(
          (p) =>
            `<li><code>${esc(p.name)}</code> <em>${esc(p.in)}${p.required ? ", required" : ""}</em>${p.description ? ` — ${esc(p.description)}` : ""}</li>`,
        )
        .join("");
      const responses = Object.entries(op.responses ?? {})
        .map(([status, r]) => `<li><code>${esc(status)}</code> ${esc(r.description ?? "")}</li>`)
        .join("");
      const body = op.requestBody?.content ? `<p>Body: <code>${esc(Object.keys(op.requestBody.content).join(", "))}</code></p>` : "";
      const auth = op.security?.length ? `<span class="auth">auth: ${esc(op.security.map(requirement).join(" | "))}</span>` : "";
      ops.push(`<section><h3><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code> ${auth}</h3>
<p>${esc(op.summary ?? "")}</p>${op.description ? `<p>${esc(op.description)}</p>` : ""}${params ? `<ul>${params}</ul>` : ""}${body}${responses ? `<details><summary>Responses</summary><ul>${responses}</ul></details>` : ""}</section>`);
    }
  }
  const errors = problemCatalog()
    .map((p) => `<tr><td><code>${esc(p.code)}</code></td><td>${p.status}</td><td>${esc(p.title)}</td></tr>`)
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(doc.info.title)} API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
section{border-top:1px solid #ddd;padding:.4rem 0}h3{font-size:1rem;margin:.6rem 0}code{font-size:.9em}
.m{display:inline-block;min-width:4.2em;font-weight:700}.get{color:#1a7f37}.post{color:#0969da}.delete{color:#cf222e}.patch,.put{color:#9a6700}
.auth{font-weight:400;color:#666;font-size:.85em}table{border-collapse:collapse}td{padding:.2rem .8rem;border-bottom:1px solid #eee}</style></head>
<body><h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1>
<p>${esc(doc.info.description ?? "")}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Authenticate with <code>Authorization: Bearer &lt;API key or JWT&gt;</code>.</p>
<h2>Endpoints</h2>${ops.join("\n")}
<h2>Errors</h2><p>Every error is <code>application/problem+json</code> (RFC 9457): <code>type</code>, <code>title</code>, <code>status</code>, <code>detail</code>, <code>code</code>, <code>request_id</code>, and for validation failures <code>errors[]</code> of <code>{field, message}</code>.</p>
<table><tr><th>code</th><th>status</th><th>title</th></tr>${errors}</table></body></html>`;
}
