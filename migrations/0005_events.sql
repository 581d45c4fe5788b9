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
CREATE OR REPLACE FUNCTION herald_ensure_event_partitions(months_ahead integer DEFAULT 2) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	first_day date;
	created integer := 0;
	part text;
BEGIN
	FOR i IN 0..months_ahead LOOP
		first_day := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i))::date;
		part := 'events_' || to_char(first_day, 'YYYY_MM');
		IF to_regclass(part) IS NULL THEN
			BEGIN
				EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
					part, first_day, (first_day + interval '1 month')::date);
				created := created + 1;
			EXCEPTION WHEN others THEN
				RAISE WARNING 'could not create partition %: %', part, SQLERRM;
			END;
		END IF;
	END LOOP;
	RETURN created;
END $$;
--> statement-breakpoint
SELECT herald_ensure_event_partitions(2);
