/**
 * herald's layers, checked by `npm run check:layers` (CI runs it right after the typecheck).
 *
 *   entry points  src/index.ts, src/scheduled.ts, queues/, durable-objects/
 *        ↓
 *   HTTP          src/app.ts, src/env.ts (the request context's types), src/routes/, src/middleware/
 *        ↓
 *   domain        what herald does: campaigns, emails, contacts, lists, …
 *        ↓
 *   adapters      what it does it with: db, services (pool, cache, logger, Durable Object stubs),
 *                 providers (HTTP/SMTP clients), ratelimit stores, lib, config, errors
 *
 * Imports point down, or sideways within a layer without cycles. A module that fits no layer is
 * itself an error, so a new top-level folder has to be placed here before it can be imported.
 *
 * Durable Object types: domain code never imports a class from durable-objects/. A stub's RPC
 * contract (its argument and result types) lives in src/services/durable-objects.ts beside the
 * function that makes the stub, and the class implements that contract, so no type-only
 * exception is needed. The stubs' own types still come from the generated Env
 * (worker-configuration.d.ts), which is not cruised.
 */

// Without a parser dependency-cruiser cruises nothing and reports success: refuse to run instead.
try {
  require.resolve("@swc/core");
} catch {
  throw new Error("check:layers needs @swc/core (a devDependency) to parse TypeScript; run npm ci");
}

const ENTRY = "^(src/index\\.ts|src/scheduled\\.ts|queues/|durable-objects/)";
const HTTP = "^src/(app\\.ts|env\\.ts|routes/|middleware/)";
const DOMAIN = "^src/(api-keys|auth|campaigns|contacts|emails|events|lists|sending|suppressions|templates|tenants|tracking|webhooks)/";
const ADAPTERS = "^src/(db|lib|providers|ratelimit|services)/|^src/(config|errors)\\.ts$";
const LAYERED = [ENTRY, HTTP, DOMAIN, ADAPTERS];

/** The queue consumers' shared runtime (the batch shape, the envelope), not consumers themselves. */
const QUEUE_RUNTIME = "^queues/(handler|envelope)\\.ts$";
/** The queue() entry point, whose dispatch table names every consumer. */
const QUEUE_DISPATCH = "^queues/index\\.ts$";
/** The Durable Object classes; durable-objects/'s other modules are their private helpers. */
const DO_CLASSES = "^durable-objects/(campaign-progress|provider-limiter|rate-limiter)\\.ts$";

/** A forbidden import: every rule here is an error that fails CI. */
function rule(name, comment, from, to) {
  return { name, comment, severity: "error", from, to };
}

module.exports = {
  forbidden: [
    rule(
      "http-not-to-entry",
      "HTTP code imports no entry point: shared code belongs in the domain or an adapter.",
      { path: HTTP },
      { path: ENTRY },
    ),
    rule(
      "domain-not-up",
      "Domain code imports no HTTP or entry-point module (no route schemas, no Durable Object classes).",
      { path: DOMAIN },
      { path: [HTTP, ENTRY] },
    ),
    rule(
      "adapters-not-up",
      "Adapters import only adapters: they know nothing of the domain, HTTP or the entry points.",
      { path: ADAPTERS },
      { path: [DOMAIN, HTTP, ENTRY] },
    ),
    rule(
      "entry-not-to-other-entry",
      "An entry point imports no other entry point's module (queues/ ↔ durable-objects/ ↔ src/scheduled.ts); " +
        "code two of them share belongs in the domain. Only src/index.ts gathers them.",
      { path: "^(queues|durable-objects)/|^src/scheduled\\.ts$" },
      { path: ENTRY, pathNot: "^$1/" },
    ),
    rule(
      "consumer-not-to-consumer",
      "A queue consumer imports no other consumer, only the shared runtime (handler.ts, envelope.ts); " +
        "queues/index.ts, the dispatcher, names them all.",
      { path: "^queues/", pathNot: QUEUE_DISPATCH },
      { path: "^queues/", pathNot: QUEUE_RUNTIME },
    ),
    rule(
      "do-class-not-to-do-class",
      "A Durable Object class imports no other Durable Object class; their shared helpers are fine.",
      { path: DO_CLASSES },
      { path: DO_CLASSES },
    ),
    rule(
      "route-folder-not-to-route-folder",
      "A route folder (src/routes/v1/<resource>/, src/routes/<folder>/) imports no other route folder: " +
        "what two share (a store, a schema) moves down into src/<resource>/ or src/lib/. The one shared " +
        "HTTP modules are src/routes/router.ts (the router factory and its validation hook) and src/routes/define.ts (defineRoute).",
      { path: "^src/routes/((?:v1/)?[^/]+)/" },
      { path: "^src/routes/", pathNot: "^src/routes/($1/|router\\.ts$|define\\.ts$)" },
    ),
    rule(
      "middleware-knows-no-route",
      "Middleware is generic: a route that needs something special declares it (see body-limit.ts, errors.ts).",
      { path: "^src/middleware/" },
      { path: "^src/(app\\.ts|routes/)" },
    ),
    rule("no-circular", "No import cycles, type-only ones included: they blur which module depends on which.", {}, { circular: true }),
    rule(
      "no-test-code",
      "Production code imports no test code, test helper or test runner.",
      { path: "^(src|queues|durable-objects)/" },
      {
        path: [
          "^test/",
          "\\.test\\.ts$",
          "^cloudflare:test$",
          "^node_modules/(vitest|@vitest|@cloudflare/vitest-pool-workers|@cloudflare/vitest-plugin|fast-check)/",
        ],
      },
    ),
    rule(
      "in-a-layer",
      "Every module belongs to a layer: add a new folder to the lists at the top of this file.",
      { path: "^(src|queues|durable-objects)/", pathNot: LAYERED },
      {},
    ),
    rule(
      "to-a-layer",
      "Every imported module belongs to a layer: add a new folder to the lists at the top of this file.",
      {},
      { path: "^(src|queues|durable-objects)/", pathNot: LAYERED },
    ),
    rule(
      "not-to-unresolvable",
      "An import that does not resolve is a typo or a missing package (cloudflare: modules are the runtime's).",
      {},
      { couldNotResolve: true, pathNot: "^cloudflare:" },
    ),
  ],
  options: {
    // TypeScript 7's compiler has no JavaScript API for dependency-cruiser to parse with; swc
    // parses the sources instead, and sees type-only imports as imports.
    parser: "swc",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: ["node_modules", "^worker-configuration\\.d\\.ts$"] },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".d.ts", ".json"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
