import { destinationPolicy } from "../../../lib/destination";
import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { uuidv7 } from "../../../lib/ids";
import { insertProvider } from "../../../providers/rows";
import { CreateProviderBody, ProviderSchema, toProviderDto } from "./schema";
import { checkSettings, limitErrors, sealCredentials } from "./settings";

export const route = defineRoute("post", "/", "providers:write", {
  summary: "Add a sending provider; its credentials are encrypted and never shown again",
  request: { body: CreateProviderBody },
  responses: [[201, ProviderSchema, "The new provider"], 503],
});

export const handler: Handler<typeof route> = async (c) => {
  const body = c.req.valid("json");
  const limits = limitErrors(body.rate_per_second, body.daily_quota, { rate: true, quota: true });
  const settings = checkSettings(
    body.kind,
    { config: body.config, credentials: body.credentials ?? null },
    destinationPolicy(c.env),
    undefined,
    limits,
  );
  const id = uuidv7();
  const sealed = await sealCredentials(id, settings.credentials ?? null, c.var.config);
  const row = await insertProvider(c.var.db, {
    id,
    tenantId: c.var.principal.tenantId,
    name: body.name,
    kind: body.kind,
    config: settings.config ?? {},
    credentials: sealed,
    ratePerSecond: body.rate_per_second,
    dailyQuota: body.daily_quota,
    priority: body.priority,
    enabled: body.enabled,
  });
  c.var.logger.info("provider created", { provider_id: id, kind: body.kind });
  return c.json(toProviderDto(row), 201);
};

export type PostProviderBody = RequestBody<typeof route>;
export type PostProviderResponse = ResponseBody<typeof route>;
