export const SCOPES = [
  "*",
  "api_keys:read",
  "api_keys:write",
  "contacts:read",
  "contacts:write",
  "templates:read",
  "templates:write",
  "providers:read",
  "providers:write",
  "campaigns:read",
  "campaigns:write",
  "emails:send",
  "emails:read",
  "suppressions:read",
  "suppressions:write",
  "webhooks:read",
  "webhooks:write",
] as const;

export type Scope = (typeof SCOPES)[number];

export const ROLES = ["owner", "admin", "member"] as const;
export type Role = (typeof ROLES)[number];

export function isScope(value: unknown): value is Scope {
  return typeof value === "string" && (SCOPES as readonly string[]).includes(value);
}

/** "*" grants everything, and a resource's write scope grants its read scope. */
export function grants(held: readonly Scope[], wanted: Scope): boolean {
  if (held.includes("*") || held.includes(wanted)) return true;
  return wanted.endsWith(":read") && held.includes(wanted.replace(/:read$/, ":write") as Scope);
}

/** Scopes for a JWT that names a role but no scopes. */
export function scopesForRole(role: Role): Scope[] {
  if (role === "owner" || role === "admin") return ["*"];
  return SCOPES.filter((s) => s.endsWith(":read"));
}
