import type { TenantInfo } from "../services/tenants";

export interface RateLimitRule {
  limit: number;
  windowSeconds: number;
}

export type Plan = TenantInfo["plan"];
/** send: the calls that put mail on the wire; read: everything else. */
export type RateLimitClass = "send" | "read";

/** The flows that check a credential someone could guess: token exchange, signup, the console's sign-in. */
export const AUTH_FLOWS = ["token", "signup", "signin"] as const;
export type AuthFlow = (typeof AUTH_FLOWS)[number];

/**
 * Limits on one credential-checking flow. Attempts are counted before the credential is checked;
 * failures after. Using up a failure limit locks that address or account out of the flow, correct
 * credential or not, until the window has slid far enough: that is what stops guessing.
 */
export interface AuthFlowLimits {
  /** Attempts per client IP. */
  ip: RateLimitRule;
  /** Failed attempts per client IP. */
  ipFailures: RateLimitRule;
  /** Attempts per account (token exchange: the API key; sign-in: the account named). */
  account: RateLimitRule;
  /** Failed attempts per account, when the account is named before the check (sign-in). */
  accountFailures: RateLimitRule;
}
const AUTH_RULES = ["ip", "ipFailures", "account", "accountFailures"] as const;

export interface RateLimitTable {
  /** Per API key / JWT subject, by the tenant's plan and the request's class. */
  plans: Record<Plan, Record<RateLimitClass, RateLimitRule>>;
  /** Per client IP, for every /v1 request, authenticated or not. */
  ip: RateLimitRule;
  auth: Record<AuthFlow, AuthFlowLimits>;
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
  // Failures are what guessing produces, so they are limited hard; attempts only bound the work.
  // Signup (POST /v1/tenants) has no account: its credential is the operator's ADMIN_SECRET.
  auth: {
    token: { ip: perMinute(600), ipFailures: perMinute(10), account: perMinute(60), accountFailures: perMinute(10) },
    signup: { ip: perMinute(600), ipFailures: perMinute(10), account: perMinute(600), accountFailures: perMinute(10) },
    signin: { ip: perMinute(60), ipFailures: perMinute(10), account: perMinute(30), accountFailures: { limit: 10, windowSeconds: 900 } },
  },
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
  return (
    !!r && typeof r === "object" && Number.isInteger(r.limit) && r.limit > 0 && Number.isInteger(r.windowSeconds) && r.windowSeconds > 0
  );
}

const parsed = new Map<string, RateLimitTable>();

/**
 * The effective table: RATE_LIMITS with RATE_LIMIT_OVERRIDES merged over it. The override is a
 * test/ops knob, e.g. {"ip":{"limit":100,"windowSeconds":60},"free":{"send":{"limit":2,"windowSeconds":2}}}.
 * Invalid JSON or rules are ignored with a warning rather than taking the API down.
 */
export function effectiveLimits(
  overrides: string | undefined,
  warn: (msg: string, fields?: Record<string, unknown>) => void,
): RateLimitTable {
  // e.g. also {"auth":{"signup":{"ipFailures":{"limit":3,"windowSeconds":60}}}}
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
    const auth = (o.auth ?? {}) as Record<string, Record<string, unknown> | undefined>;
    for (const flow of AUTH_FLOWS) {
      for (const rule of AUTH_RULES) {
        const value = auth[flow]?.[rule];
        if (value === undefined) continue;
        if (isRule(value)) table.auth[flow][rule] = value;
        else warn("RATE_LIMIT_OVERRIDES: ignoring an invalid auth rule", { flow, rule });
      }
    }
  } catch {
    warn("RATE_LIMIT_OVERRIDES is not valid JSON; using the default limits");
    return RATE_LIMITS;
  }
  parsed.set(overrides, table);
  return table;
}
