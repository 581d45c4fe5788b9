import type { OpenAPIHono } from "@hono/zod-openapi";
import { secureHeaders } from "hono/secure-headers";
import type { HonoEnv } from "./env";
import { newRouter } from "./routes/router";
import { defaultBodyLimit } from "./middleware/body-limit";
import { notFound, onError } from "./middleware/errors";
import { guardJsonBody } from "./middleware/json-body";
import { ipRateLimit } from "./middleware/rate-limit";
import { requestContext } from "./middleware/request-context";
import { services } from "./middleware/services";
import { renderDocsPage } from "./routes/docs/page";
import { registerHealth } from "./routes/health";
import { apiKeysRoutes } from "./routes/v1/api-keys";
import { authRoutes } from "./routes/v1/auth";
import { registerTracking } from "./routes/public/tracking";
import { registerUnsubscribe } from "./routes/public/unsubscribe";
import { campaignsRoutes } from "./routes/v1/campaigns";
import { contactsRoutes } from "./routes/v1/contacts";
import { emailsRoutes } from "./routes/v1/emails";
import { inboundRoutes } from "./routes/v1/inbound";
import { listsRoutes } from "./routes/v1/lists";
import { providersRoutes } from "./routes/v1/providers";
import { suppressionsRoutes } from "./routes/v1/suppressions";
import { templatesRoutes } from "./routes/v1/templates";
import { tenantsRoutes } from "./routes/v1/tenants";
import { webhooksRoutes } from "./routes/v1/webhooks";

export const API_INFO = {
  title: "herald",
  version: "0.1.0",
  description: "Email campaigns and transactional mail on Cloudflare Workers.",
};

export function createApp(): OpenAPIHono<HonoEnv> {
  const app = newRouter();

  app.use("*", requestContext);
  app.use("*", secureHeaders({ crossOriginResourcePolicy: false }));
  app.use("*", guardJsonBody);
  // A route that takes bulk data (the contact import) raises the limit with its own limitBody().
  app.use("/v1/*", defaultBodyLimit(), services);
  // ipRateLimit itself lets inbound provider webhooks through (see isNeverRateLimited).
  app.use("/v1/*", ipRateLimit);

  registerHealth(app);
  app.route("/v1/tenants", tenantsRoutes());
  app.route("/v1/auth", authRoutes());
  app.route("/v1/api-keys", apiKeysRoutes());
  app.route("/v1/contacts", contactsRoutes());
  app.route("/v1/lists", listsRoutes());
  app.route("/v1/templates", templatesRoutes());
  app.route("/v1/providers", providersRoutes());
  app.route("/v1/campaigns", campaignsRoutes());
  app.route("/v1/emails", emailsRoutes());
  app.route("/v1/suppressions", suppressionsRoutes());
  // Providers call this one without a bearer token; each checks its own signature.
  app.route("/v1/webhooks/inbound", inboundRoutes());
  app.route("/v1/webhooks", webhooksRoutes());
  registerTracking(app);
  registerUnsubscribe(app);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "An API key (hk_…) or a JWT: herald's own from POST /v1/auth/token, or your identity provider's",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "adminSecret", {
    type: "http",
    scheme: "bearer",
    description: "The operator's ADMIN_SECRET",
  });
  app.doc31("/openapi.json", { openapi: "3.1.0", info: API_INFO });
  app.get("/docs", (c) => {
    const doc = app.getOpenAPI31Document({ openapi: "3.1.0", info: API_INFO });
    return c.html(renderDocsPage(doc as Parameters<typeof renderDocsPage>[0]));
  });

  app.notFound(notFound);
  app.onError(onError);
  return app;
}
