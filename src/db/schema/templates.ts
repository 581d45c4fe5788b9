import { sql } from "drizzle-orm";
import { integer, pgTable, text } from "drizzle-orm/pg-core";
import { timestamps } from "./columns";
import { tenantIndex, tenantRow } from "./tenants";

export const templates = pgTable(
  "templates",
  {
    ...tenantRow(),
    name: text("name").notNull(),
    subject: text("subject").notNull(),
    html: text("html"),
    text: text("text"),
    /** Bumped on every update; campaigns snapshot the version they launch with. */
    version: integer("version").notNull().default(1),
    variables: text("variables").array().notNull().default(sql`'{}'::text[]`),
    ...timestamps(),
  },
  (t) => [tenantIndex("templates", t)],
);
