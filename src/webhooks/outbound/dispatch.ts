import type { StoredEvent } from "../../events/message";
import type { Db } from "../../services/db";

/**
 * Creates a delivery for each enabled endpoint of the tenant subscribed to each event, and queues
 * them. Filled in by the outbound-webhooks work.
 */
export async function dispatchWebhooks(_db: Db, _env: Env, _tenantId: string, _events: StoredEvent[]): Promise<void> {}
