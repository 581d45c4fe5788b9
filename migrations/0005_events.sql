-- Transactional emails put `queued` rows in the message log.
ALTER TABLE "messages" DROP CONSTRAINT "messages_status_ck";
--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_status_ck" CHECK ("status" IN ('queued', 'claimed', 'sent', 'failed', 'skipped', 'retrying'));
--> statement-breakpoint
-- Delivery and engagement events (from tracking, unsubscribes, sends and provider webhooks),
-- range-partitioned by the month they happened in. An event's id is derived from its source's own
-- id where it has one, so a provider delivering the same event twice inserts one row.
CREATE TABLE "events" (
	"month" date NOT NULL,
	"id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	"type" text NOT NULL,
	"message_id" uuid,
	"campaign_id" uuid,
	"email" text,
	"source" text NOT NULL,
	"provider_event_id" text,
	"url" text,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	PRIMARY KEY ("month", "id"),
	CONSTRAINT "events_type_ck" CHECK ("type" IN ('sent', 'delivered', 'bounced', 'complained', 'opened', 'clicked', 'unsubscribed', 'failed'))
) PARTITION BY RANGE ("month");
--> statement-breakpoint
CREATE INDEX "events_campaign_idx" ON "events" ("tenant_id", "campaign_id", "type", "message_id");
--> statement-breakpoint
CREATE INDEX "events_message_idx" ON "events" ("tenant_id", "message_id", "occurred_at");
--> statement-breakpoint
CREATE TABLE "events_default" PARTITION OF "events" DEFAULT;
--> statement-breakpoint
-- One function keeps every monthly-partitioned table ahead: the partitions for this month and the
-- next `months_ahead` of `parent`, created with `storage` (e.g. 'fillfactor = 70'). It replaces the
-- messages-only function of 0002, which the cron now calls through this one.
CREATE OR REPLACE FUNCTION herald_ensure_monthly_partitions(parent text, months_ahead integer DEFAULT 2, storage text DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	first_day date;
	created integer := 0;
	part text;
BEGIN
	FOR i IN 0..months_ahead LOOP
		first_day := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i))::date;
		part := parent || '_' || to_char(first_day, 'YYYY_MM');
		IF to_regclass(part) IS NULL THEN
			BEGIN
				EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part, parent, first_day, (first_day + interval '1 month')::date)
					|| CASE WHEN storage IS NULL THEN '' ELSE ' WITH (' || storage || ')' END;
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
DROP FUNCTION herald_ensure_message_partitions(integer);
--> statement-breakpoint
SELECT herald_ensure_monthly_partitions('events', 2);
