import { destinationPolicy } from "../../../lib/destination";
import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { IdParam } from "../../../lib/schemas";
import { providerCacheKey } from "../../../providers/registry";
import { findProvider, type ProviderChanges, updateProvider } from "../../../providers/rows";
import { ProviderSchema, toProviderDto, UpdateProviderBody } from "./schema";
import { checkSettings, limitErrors, sealCredentials } from "./settings";

export const route = defineRoute("patch", "/{id}", "providers:write", {
  summary:
    "Change a provider. Config is replaced whole when given; credentials only when given, and they must be given again when the config changes where they are sent.",
  request: { params: IdParam, body: UpdateProviderBody },
  responses: [[200, ProviderSchema, "The provider"], 404, 503],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const existing = await findProvider(c.var.db, tenantId, c.req.valid("param").id);
  const body = c.req.valid("json");
  const given = { rate: body.rate_per_second !== undefined, quota: body.daily_quota !== undefined };
  // Only a request that changes a limit is judged on it: a row stored before this rule stays editable.
  const limits =
    given.rate || given.quota
      ? limitErrors(body.rate_per_second ?? existing.ratePerSecond, body.daily_quota ?? existing.dailyQuota, given)
      : [];
  const previous = { config: existing.config, hasCredentials: existing.credentials !== null };
  const settings = checkSettings(
    existing.kind,
    { config: body.config, credentials: body.credentials },
    destinationPolicy(c.env),
    previous,
    limits,
  );
  const changes: ProviderChanges = { updatedAt: new Date() };
  if (body.name !== undefined) changes.name = body.name;
  if (settings.config !== undefined) changes.config = settings.config;
  if (settings.credentials !== undefined) changes.credentials = await sealCredentials(existing.id, settings.credentials, c.var.config);
  if (body.rate_per_second !== undefined) changes.ratePerSecond = body.rate_per_second;
  if (body.daily_quota !== undefined) changes.dailyQuota = body.daily_quota;
  if (body.priority !== undefined) changes.priority = body.priority;
  if (body.enabled !== undefined) changes.enabled = body.enabled;
  const row = await updateProvider(c.var.db, tenantId, existing.id, changes);
  if (!row) return c.json(toProviderDto(await findProvider(c.var.db, tenantId, existing.id)), 200);
  await c.var.cache.delete(providerCacheKey(c.var.principal.tenantId, row.id));
  c.var.logger.info("provider updated", { provider_id: row.id, fields: Object.keys(body) });
  return c.json(toProviderDto(row), 200);
};

export type PatchProviderBody = RequestBody<typeof route>;
export type PatchProviderResponse = ResponseBody<typeof route>;
