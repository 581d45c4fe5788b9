import { counted } from "../lib/metrics";

/** The CampaignProgress Durable Object of a campaign. */
export function progressStub(env: Env, campaignId: string) {
  return counted(env.CAMPAIGN_PROGRESS.get(env.CAMPAIGN_PROGRESS.idFromName(`campaign:${campaignId}`)));
}

/** The ProviderLimiter Durable Object of a provider. */
export function limiterStub(env: Env, providerId: string) {
  return counted(env.PROVIDER_LIMITER.get(env.PROVIDER_LIMITER.idFromName(`provider:${providerId}`)));
}
