import type { TenantInfo } from "../services/tenants";

export interface RateLimitRule {
  limit: number;
  windowSeconds: number;
}

export type Plan = TenantInfo["plan"];
/** send: the calls that put mail on the wire; read: everything else. */
export type RateLimitClass = "send" | "read";

export interface RateLimitTable {
  /** Per API key / JWT subject, by the tenant's plan and the request's class. */
  plans: Record<Plan, Record<RateLimitClass, RateLimitRule>>;
  /** Per client IP, for every /v1 request, authenticated or not. */
  ip: RateLimitRule;
}

const perMinute = (limit: number): RateLimitRule => ({ limit, windowSeconds: 60 });

/** herald's rate limits. Sliding windows; RATE_LIMIT_OVERRIDES (JSON) can replace any rule. */
export const RATE_LIMITS: RateLimitTable = {
  plans: {
    free: { read: perMinute(600), send: perMinute(60) },
    pro: { read: perMinute(6_000), send: perMinute(600) },
    enterprise: { read: perMinute(60_000), send: perMinute(6_000) },
  },
  ip: perMinute(3_000),
};

const SEND_EMAIL_PATH = /^\/v1\/emails(\/batch)?\/?$/;
const SEND_PATH = /^\/v1\/campaigns\/[^/]+\/(launch|resume|retry-failed)\/?$/;

export function classify(method: string, path: string): RateLimitClass {
  if (method === "POST" && SEND_EMAIL_PATH.test(path)) return "send";
  if (method === "POST" && SEND_PATH.test(path)) return "send";
  return "read";
}

function isRule(v: unknown): v is RateLimitRule {
  const r = v as RateLimitRule;
  return !!r && typeof r === "object" && Number.isInteger(r.limit) && r.limit > 0 && Number.isInteger(r.windowSeconds) && r.windowSeconds > 0;
}

const parsed = new Map<string, RateLimitTable>();

/**
 * The effective table: RATE_LIMITS with RATE_LIMIT_OVERRIDES merged over it. The override is a
 * test/ops knob, e.g. {"ip":{"limit":100,"windowSeconds":60},"free":{"send":{"limit":2,"windowSeconds":2}}}.
 * Invalid JSON or rules are ignored with a warning rather than taking the API down.
 */
export function effectiveLimits(overrides: string | undefined, warn: (msg: string, fields?: Record<string, unknown>) => void): RateLimitTable {
  if (!overrides?.trim()) return RATE_LIMITS;
  const cached = parsed.get(overrides);
  if (cached) return cached;
  const table: RateLimitTable = structuredClone(RATE_LIMITS);
  try {
    const o = JSON.parse(overrides) as Record<string, unknown>;
    if (o.ip !== undefined) {
      if (isRule(o.ip)) table.ip = o.ip;
      else warn("RATE_LIMIT_OVERRIDES: ignoring an invalid ip rule");
    }
    for (const plan of Object.keys(table.plans) as Plan[]) {
      const p = o[plan] as Record<string, unknown> | undefined;
      if (!p) continue;
      for (const cls of ["read", "send"] as const) {
        if (p[cls] === undefined) continue;
        if (isRule(p[cls])) table.plans[plan][cls] = p[cls];
        else warn("RATE_LIMIT_OVERRIDES: ignoring an invalid rule", { plan, class: cls });
      }
    }
  } catch {
    warn("RATE_LIMIT_OVERRIDES is not valid JSON; using the default limits");
    return RATE_LIMITS;
  }
  parsed.set(overrides, table);
  return table;
}
