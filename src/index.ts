import { queue } from "../queues";
import { createApp } from "./app";
import { scheduled } from "./scheduled";

export { CampaignProgress } from "../durable-objects/campaign-progress";
export { ProviderLimiter } from "../durable-objects/provider-limiter";
export { RateLimiter } from "../durable-objects/rate-limiter";

const app = createApp();

export default {
  fetch: app.fetch,
  queue,
  scheduled,
} satisfies ExportedHandler<Env>;
