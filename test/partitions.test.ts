// The cron keeps the monthly partitions of messages and events ahead, through one SQL function.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { withDb } from "./helpers";

describe("herald_ensure_monthly_partitions", () => {
  it("creates the coming months' partitions of messages (fillfactor 70) and events, once", async () => {
    await withDb(async (db) => {
      const ahead = 5;
      await db.execute(
        sql`SELECT herald_ensure_monthly_partitions('messages', ${ahead}, 'fillfactor = 70'), herald_ensure_monthly_partitions('events', ${ahead})`,
      );
      const month = sql`to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => ${ahead}), 'YYYY_MM')`;
      const found = await db.execute<{ relname: string; reloptions: string[] | null }>(sql`
        SELECT relname, reloptions FROM pg_class WHERE relname IN ('messages_' || ${month}, 'events_' || ${month}) ORDER BY relname`);
      expect(found.rows.map((r) => [r.relname.split("_")[0], r.reloptions])).toEqual([
        ["events", null],
        ["messages", ["fillfactor=70"]],
      ]);
      const again = await db.execute<{ n: number }>(sql`SELECT herald_ensure_monthly_partitions('events', ${ahead}) AS n`);
      expect(again.rows[0]!.n).toBe(0);
    });
  });
});
