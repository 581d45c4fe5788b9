import { createRoute, z } from "@hono/zod-openapi";
import { authenticate, bearerToken, HERALD_AUDIENCE, HERALD_ISSUER, SESSION_TTL_SECONDS } from "../../../auth/authenticate";
import { signHs256 } from "../../../auth/jwt";
import { SCOPES } from "../../../auth/scopes";
import { ConfigError } from "../../../config";
import type { Handler, ResponseBody } from "../../define";
import { HeraldError } from "../../../errors";
import { problems } from "../../../lib/schemas";
import { limitAuthAttempt } from "../../../middleware/rate-limit";

const TokenSchema = z
  .object({
    access_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int().openapi({ example: SESSION_TTL_SECONDS }),
    scopes: z.array(z.enum(SCOPES)),
  })
  .openapi("AccessToken");

/**
 * On createRoute, not defineRoute: the route checks the bearer credential itself (an API key, and
 * no scope), yet the document still names bearerAuth; and it has a description.
 */
export const route = createRoute({
  method: "post",
  path: "/token",
  tags: ["auth"],
  summary: "Exchange an API key (Authorization: Bearer hk_…) for a short-lived JWT",
  description:
    `The JWT is HS256-signed with JWT_SECRET (iss and aud "herald"), carries the key's tenant and scopes, and expires after ${SESSION_TTL_SECONDS} s. ` +
    "Revoking the key does not recall tokens already issued; they lapse within that time. " +
    "Rate limited per client address and per key; failed attempts are limited hard (see README), and past that limit the address is refused for a while even with a valid key.",
  security: [{ bearerAuth: [] }],
  responses: {
    200: { description: "A session token", content: { "application/json": { schema: TokenSchema } } },
    ...problems(401, 403, 429),
  },
});

export const handler: Handler<typeof route> = async (c) => {
  const token = bearerToken(c.req.header("authorization"));
  const principal = await limitAuthAttempt(
    c,
    "token",
    () => authenticate(token, { env: c.env, db: c.var.db, cache: c.var.cache, defer: c.var.defer }),
    {
      accountOf: (p) => `${p.kind}:${p.tenantId}:${p.subject}`,
    },
  );
  if (principal.kind !== "api_key") {
    throw new HeraldError("forbidden", "only an API key can be exchanged for a token");
  }
  const { auth } = c.var.config;
  // Settings that make every JWT unusable (a JWT_SECRET under 32 characters among them) fail here too.
  if (auth instanceof ConfigError) throw auth;
  const secret = auth.jwtSecret;
  if (!secret) throw new ConfigError("JWT_SECRET must be set (>= 32 characters) to issue tokens");
  const now = Math.floor(Date.now() / 1000);
  const accessToken = await signHs256(
    {
      iss: HERALD_ISSUER,
      aud: HERALD_AUDIENCE,
      sub: `key:${principal.subject}`,
      tid: principal.tenantId,
      scopes: principal.scopes,
      iat: now,
      nbf: now,
      exp: now + SESSION_TTL_SECONDS,
      jti: crypto.randomUUID(),
    },
    secret,
  );
  c.header("cache-control", "no-store");
  return c.json(
    { access_token: accessToken, token_type: "Bearer" as const, expires_in: SESSION_TTL_SECONDS, scopes: principal.scopes },
    200,
  );
};

export type IssueTokenResponse = ResponseBody<typeof route>;
