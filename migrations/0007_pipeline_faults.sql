CREATE TABLE "campaign_pages" (
	"tenant_id" uuid NOT NULL,
	"campaign_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"after" uuid,
	"until" uuid NOT NULL,
	"expected" integer NOT NULL,
	"vanished" integer DEFAULT 0 NOT NULL,
	"state" text DEFAULT 'planned' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "campaign_pages_tenant_id_campaign_id_seq_pk" PRIMARY KEY("tenant_id","campaign_id","seq")
);
--> statement-breakpoint
CREATE TABLE "provider_replays" (
	"id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	"provider_id" uuid NOT NULL,
	"campaign_id" uuid,
	"month" date NOT NULL,
	"message_ids" uuid[] NOT NULL,
	"idempotency_key" text NOT NULL,
	"body" text NOT NULL,
	"attempts" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "provider_replays_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "unknown" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "launch_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "failure_reason" text;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "blocked_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "waiting_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "campaign_pages" ADD CONSTRAINT "campaign_pages_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_pages" ADD CONSTRAINT "campaign_pages_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_replays" ADD CONSTRAINT "provider_replays_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "provider_replays_expires_idx" ON "provider_replays" USING btree ("expires_at");--> statement-breakpoint
-- Hand-written: messages is partitioned (see 0002), so drizzle-kit does not manage it.
ALTER TABLE "messages" ADD COLUMN "claim_token" text;--> statement-breakpoint
ALTER TABLE "messages" DROP CONSTRAINT "messages_status_ck";--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_status_ck" CHECK ("status" IN ('queued', 'claimed', 'sending', 'replaying', 'sent', 'failed', 'skipped', 'unknown', 'retrying'));
--> statement-breakpoint
ALTER TABLE "events" DROP CONSTRAINT "events_type_ck";--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_type_ck" CHECK ("type" IN ('sent', 'delivered', 'bounced', 'complained', 'opened', 'clicked', 'unsubscribed', 'failed', 'unknown'));
