import type { Plan } from "../ratelimit";
import type { Scope } from "./scopes";

/** Who is calling, resolved once per request by the auth middleware. */
export interface Principal {
  tenantId: string;
  /** api_key: an hk_ key; session: a JWT herald issued for a key; user: a JWT from the tenant's identity provider. */
  kind: "api_key" | "session" | "user";
  /** The key id for api_key and session principals, the user id (JWT sub) for user principals. */
  subject: string;
  scopes: Scope[];
  /** The tenant's plan, read with the check that the tenant exists, so no later step reads it again. */
  plan: Plan;
}

/** A verified credential before its tenant is looked up. */
export type Credential = Omit<Principal, "plan">;
