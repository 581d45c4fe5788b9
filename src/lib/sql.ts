import { sql, type SQL } from "drizzle-orm";

/**
 * A JS array as ONE bind parameter (a Postgres array), for unnest() and = ANY(). drizzle's sql``
 * would otherwise expand an array into a parenthesised list of parameters.
 */
export function pgArray(values: readonly unknown[]): SQL {
  return sql`${sql.param(values)}`;
}
