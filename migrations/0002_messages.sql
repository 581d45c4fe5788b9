-- The message log: one row per recipient send, range-partitioned by month. For campaign mail the
-- row doubles as the recipient's claim; see src/db/messages.ts.
CREATE TABLE "messages" (
	"month" date NOT NULL,
	"id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	"campaign_id" uuid,
	"contact_id" uuid,
	"email" text NOT NULL,
	"status" text NOT NULL,
	"provider_id" uuid,
	"provider_message_id" text,
	"error" text,
	"attempts" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	PRIMARY KEY ("month", "id"),
	CONSTRAINT "messages_status_ck" CHECK ("status" IN ('claimed', 'sent', 'failed', 'skipped', 'retrying'))
) PARTITION BY RANGE ("month");
-- No index covers status, updated_at or the result columns, and partitions keep free room in each
-- page (fillfactor 70), so recording a send's result is a HOT update that touches no index.
--> statement-breakpoint
CREATE UNIQUE INDEX "messages_claim_uq" ON "messages" ("month", "campaign_id", "contact_id");
--> statement-breakpoint
CREATE INDEX "messages_tenant_campaign_idx" ON "messages" ("tenant_id", "campaign_id", "id");
--> statement-breakpoint
CREATE INDEX "messages_tenant_contact_idx" ON "messages" ("tenant_id", "contact_id", "id");
--> statement-breakpoint
-- Rows for a month without its own partition still land somewhere.
CREATE TABLE "messages_default" PARTITION OF "messages" DEFAULT WITH (fillfactor = 70);
--> statement-breakpoint
-- Creates the partitions for this month and the next `months_ahead`; the cron calls it so a month's
-- partition exists before its first row.
CREATE OR REPLACE FUNCTION herald_ensure_message_partitions(months_ahead integer DEFAULT 2) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	first_day date;
	created integer := 0;
	part text;
BEGIN
	FOR i IN 0..months_ahead LOOP
		first_day := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i))::date;
		part := 'messages_' || to_char(first_day, 'YYYY_MM');
		IF to_regclass(part) IS NULL THEN
			BEGIN
				EXECUTE format('CREATE TABLE %I PARTITION OF messages FOR VALUES FROM (%L) TO (%L) WITH (fillfactor = 70)',
					part, first_day, (first_day + interval '1 month')::date);
				created := created + 1;
			EXCEPTION WHEN others THEN
				-- Rows for that month already sit in the default partition; leave them there.
				RAISE WARNING 'could not create partition %: %', part, SQLERRM;
			END;
		END IF;
	END LOOP;
	RETURN created;
END $$;
--> statement-breakpoint
SELECT herald_ensure_message_partitions(2);
