-- Outbound open and click webhooks are coalesced per message and window (src/webhooks/outbound/dispatch.ts):
-- a delivery standing for such a window carries its slot as coalesce_key, and the index lets one
-- delivery per endpoint take a slot, whichever events consumer gets there first.
ALTER TABLE "webhook_deliveries" ADD COLUMN "coalesce_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_coalesce_uq" ON "webhook_deliveries" USING btree ("endpoint_id","coalesce_key") WHERE "coalesce_key" IS NOT NULL;
