import { timestamp } from "drizzle-orm/pg-core";

/** The columns most tables share. */
export const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
export const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();
/** When a row was created and last changed. */
export const timestamps = () => ({ createdAt: createdAt(), updatedAt: updatedAt() });
