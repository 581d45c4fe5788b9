// herald's tables as drizzle sees them (drizzle.config.ts reads this file), one file per area. The
// partitioned messages and events tables are declared apart (src/db/messages-table.ts,
// src/db/events-table.ts): drizzle-kit cannot declare them, so migrations create them.
export * from "./audience";
export * from "./campaigns";
export * from "./emails";
export * from "./providers";
export * from "./templates";
export { apiKeys, tenants, users, type ApiKey, type Tenant, type User } from "./tenants";
export * from "./webhooks";
