-- Outbound webhooks choose their signature scheme per endpoint (src/webhooks/outbound/headers.ts).
-- Existing endpoints take the default, 'herald', so their receivers see the same headers as before.
-- A "standard" endpoint's rotation keeps the replaced secret signing until previous_secret_expires_at.
ALTER TABLE "webhook_endpoints" ADD COLUMN "signature_scheme" text DEFAULT 'herald' NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "previous_secret" text;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "previous_secret_expires_at" timestamp with time zone;
