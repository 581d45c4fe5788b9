import { z } from "@hono/zod-openapi";
import { ROLES } from "../../../auth/scopes";
import { Timestamp } from "../../../lib/schemas";
import { CreatedApiKeySchema } from "../../../api-keys/schema";

export const PLANS = ["free", "pro", "enterprise"] as const;

export const CreateTenantBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    plan: z.enum(PLANS).default("free"),
    owner: z
      .object({
        email: z
          .email()
          .max(320)
          .transform((e) => e.toLowerCase()),
        name: z.string().trim().min(1).max(200).optional(),
      })
      .strict()
      .optional()
      .openapi({ description: "The tenant's first member, who signs in through your identity provider (JWT sub = their id)" }),
  })
  .strict()
  .openapi("CreateTenant");

export const TenantSchema = z
  .object({ id: z.string().uuid(), name: z.string(), plan: z.enum(PLANS), created_at: Timestamp })
  .openapi("Tenant");

export const UserSchema = z
  .object({ id: z.string().uuid(), email: z.string(), name: z.string().nullable(), role: z.enum(ROLES), created_at: Timestamp })
  .openapi("User");

export const CreatedTenantSchema = z
  .object({ tenant: TenantSchema, api_key: CreatedApiKeySchema, owner: UserSchema.nullable() })
  .openapi("CreatedTenant");
