import { eq, and, asc, sql } from "drizzle-orm";
import type { BatchLease } from "../durable-objects/provider-limiter";
import { markSending, recordOutcomes, releaseClaims, type Outcome } from "../src/campaigns/store/message-rows";
import { storeReplays } from "../src/campaigns/store/replay-rows";
import { queueDelay } from "../src/lib/queues";
import { policyProviders } from "../src/campaigns/sending-context";
import { providers as providersTable } from "../src/db/schema";
import { TransactionalMessage } from "../src/emails/queue";
import { publishEvents, sendOutcomeEvent, type EventInput } from "../src/events/message";
import { groupBy } from "../src/lib/collections";
import { pgArray } from "../src/lib/sql";
import { leaseInPolicyOrder, reportLeaseOutcomes } from "../src/sending/policy-lease";
import { sendAll } from "../src/sending/send-all";
import type { LoadedProvider } from "../src/providers/registry";
import type { OutboundEmail } from "../src/providers/types";
import { openDb, type Db } from "../src/services/db";
import type { Logger } from "../src/services/logger";
import { recipientKey, suppressedAmong } from "../src/suppressions/store";
import { decorate } from "../src/tracking/links";
import { backoffSeconds, parseAndGroup } from "./handler";

interface Job {
  message: Message;
  body: TransactionalMessage;
  email?: ClaimedEmail;
  /** Retry the queue message after this many seconds. */
  retryAfter?: number;
}

type ClaimedEmail = {
  id: string;
  month: string;
  provider_id: string | null;
  from_address: string;
  to_addresses: string[];
  cc_addresses: string[];
  bcc_addresses: string[];
  reply_to: string[];
  subject: string;
  html: string | null;
  text: string | null;
  headers: Record<string, string>;
  track_opens: boolean;
  track_clicks: boolean;
};

/**
 * Sends a batch from herald-transactional. This queue never carries campaign mail, so a campaign's
 * backlog never delays it, and its leases draw on the share of each provider's rate that campaign
 * leases leave alone. Per tenant: one statement claims the emails in the message log (so a
 * duplicate queue message sends nothing), one reads suppressions again (an address suppressed since
 * acceptance is dropped), providers are leased in priority order, and the outcomes are recorded in
 * the message log and on the email.
 */
export async function processTransactionalBatch(batch: MessageBatch, env: Env, ctx: ExecutionContext, logger: Logger): Promise<void> {
  const byTenant: Map<string, Job[]> = parseAndGroup(batch, TransactionalMessage, (b) => b.tenant_id, logger, "transactional message");
  if (byTenant.size === 0) return;
  const handle = openDb(env);
  try {
    for (const [tenantId, jobs] of byTenant) {
      const log = logger.child({ tenant_id: tenantId });
      try {
        await sendForTenant(tenantId, jobs, env, handle.db, log);
      } catch (err) {
        log.warn("transactional send failed; its messages will be retried", { err });
        for (const job of jobs) job.retryAfter ??= backoffSeconds(job.message.attempts);
      }
      for (const job of jobs) {
        if (job.retryAfter !== undefined) job.message.retry({ delaySeconds: queueDelay(job.retryAfter) });
        else job.message.ack();
      }
    }
  } finally {
    ctx.waitUntil(handle.close());
  }
}

/**
 * Claims the batch's emails in the message log (queued or retrying → claimed, each once) and marks
 * the emails `sending`, in one statement; returns what to send.
 */
async function claim(db: Db, tenantId: string, jobs: Job[]): Promise<ClaimedEmail[]> {
  const result = await db.execute<ClaimedEmail>(sql`
    WITH input AS (
      SELECT * FROM unnest(${pgArray(jobs.map((j) => j.body.email_id))}::uuid[], ${pgArray(jobs.map((j) => j.body.month))}::date[]) AS i(id, month)
    ), claimed AS (
      UPDATE messages m SET status = 'claimed', attempts = m.attempts + 1, updated_at = now()
      FROM input i, emails e
      WHERE m.month = i.month AND m.id = i.id AND m.tenant_id = ${tenantId} AND m.status IN ('queued', 'retrying')
        AND e.id = m.id AND e.tenant_id = ${tenantId} AND e.status = 'queued'
      RETURNING m.id, m.month
    ), marked AS (
      UPDATE emails e SET status = 'sending', updated_at = now()
      FROM claimed c WHERE e.id = c.id AND e.tenant_id = ${tenantId}
      RETURNING e.*, c.month AS claimed_month
    )
    SELECT id, to_char(claimed_month, 'YYYY-MM-DD') AS month, provider_id, from_address, to_addresses, cc_addresses,
      bcc_addresses, reply_to, subject, html, text, headers, track_opens, track_clicks
    FROM marked`);
  return result.rows;
}

/** Gives claims back (the queue message is retried): the message log says retrying, the email queued. */
async function releaseEmails(db: Db, tenantId: string, jobs: Job[]) {
  if (jobs.length === 0) return;
  for (const [month, group] of groupBy(jobs, (j) => j.email!.month)) await releaseClaims(db, tenantId, month, group.map((j) => j.email!.id));
  await db.execute(sql`
    UPDATE emails SET status = 'queued', enqueued_at = now(), updated_at = now()
    WHERE tenant_id = ${tenantId} AND id = ANY(${pgArray(jobs.map((j) => j.email!.id))}::uuid[]) AND status = 'sending'`);
}

const POLICY_TTL_MS = 10_000;
const policies = new Map<string, { ids: string[]; at: number }>();

/** The tenant's enabled providers by priority, re-read at most every 10 s per isolate. */
async function tenantPolicy(db: Db, tenantId: string): Promise<string[]> {
  const hit = policies.get(tenantId);
  if (hit && Date.now() - hit.at < POLICY_TTL_MS) return hit.ids;
  const rows = await db
    .select({ id: providersTable.id })
    .from(providersTable)
    .where(and(eq(providersTable.tenantId, tenantId), eq(providersTable.enabled, true)))
    .orderBy(asc(providersTable.priority), asc(providersTable.id));
  const ids = rows.map((r) => r.id);
  if (policies.size > 1000) policies.clear();
  policies.set(tenantId, { ids, at: Date.now() });
  return ids;
}

async function sendForTenant(tenantId: string, jobs: Job[], env: Env, db: Db, logger: Logger) {
  const claimed = await claim(db, tenantId, jobs);
  const byId = new Map(claimed.map((e) => [e.id, e]));
  // A message whose email is not claimable was sent, cancelled or is being sent by another delivery: ack it.
  const live = jobs.filter((j) => {
    j.email = byId.get(j.body.email_id);
    byId.delete(j.body.email_id);
    return j.email !== undefined;
  });
  if (live.length === 0) return;
  const handedOver = { value: false };
  try {
    await deliver(tenantId, live, env, db, logger, handedOver);
  } catch (err) {
    // Before any provider call the claims can be given back, so the retry sends them. After it, a
    // claim may stand for accepted mail: it stays, and the sweep settles it as outcome_unknown.
    if (!handedOver.value) await releaseEmails(db, tenantId, live).catch((e) => logger.warn("could not release claims", { err: e }));
    throw err;
  }
}

async function deliver(tenantId: string, live: Job[], env: Env, db: Db, logger: Logger, handedOver: { value: boolean }) {
  const suppressed = await suppressedAmong(db, tenantId, live.flatMap((j) => [...j.email!.to_addresses, ...j.email!.cc_addresses, ...j.email!.bcc_addresses]));
  const keep = (list: string[]) => list.filter((a) => !suppressed.has(recipientKey(a)));
  const skipped: Job[] = [];
  const sendable: Job[] = [];
  for (const job of live) {
    const e = job.email!;
    const to = keep(e.to_addresses);
    if (to.length === 0) skipped.push(job);
    else {
      job.email = { ...e, to_addresses: to, cc_addresses: keep(e.cc_addresses), bcc_addresses: keep(e.bcc_addresses) };
      sendable.push(job);
    }
  }

  const defaultPolicy = sendable.some((j) => !j.email!.provider_id) ? await tenantPolicy(db, tenantId) : [];
  const policyOf = (j: Job) => (j.email!.provider_id ? [j.email!.provider_id] : defaultPolicy);
  const providers = await policyProviders(db, env, tenantId, [...new Set(sendable.flatMap(policyOf))]);
  const { assigned, leases, unsendable } = await lease(env, sendable, policyOf, providers);
  const waiting = sendable.filter((j) => j.retryAfter !== undefined);
  await releaseEmails(db, tenantId, waiting);

  const outcomes: Outcome[] = [];
  // Unsendable emails were claimed but never handed to a provider: mark them so their outcome records.
  // A transactional claim is the email's own (one delivery holds it), so no owners are checked.
  const nonce = crypto.randomUUID();
  for (const [month, group] of groupBy(unsendable, (j) => j.email!.month)) await markSending(db, { tenantId, month, ids: group.map((j) => j.email!.id), nonce });
  outcomes.push(...unsendable.map((j) => ({ id: j.email!.id, status: "failed" as const, error: "no enabled provider to send through" })));
  const release: Job[] = [];
  const failures = new Map<string, boolean>();
  // From here a provider may get these emails: a claim marked `sending` is never given back blindly.
  const marked = new Set<string>();
  for (const [month, group] of groupBy(assigned, (a) => a.job.email!.month)) {
    for (const id of await markSending(db, { tenantId, month, ids: group.map((a) => a.job.email!.id), nonce })) marked.add(id);
  }
  handedOver.value = assigned.length > 0;
  for (const [providerId, all] of groupBy(assigned, (a) => a.provider.id)) {
    const group = all.filter((a) => marked.has(a.job.email!.id));
    if (group.length === 0) continue;
    const provider = group[0]!.provider;
    const emails = await Promise.all(group.map(({ job }) => render(env, tenantId, job.email!)));
    const result = await sendAll(provider, emails);
    outcomes.push(...result.outcomes);
    for (const [month, members] of groupBy(result.replays, (r) => group.find((a) => a.job.email!.id === r.ids[0])!.job.email!.month)) {
      await storeReplays(db, { tenantId, campaignId: null, providerId, month, replays: members });
    }
    const released = new Set(result.release);
    for (const { job } of group) {
      if (released.has(job.email!.id)) {
        job.retryAfter = result.failure?.retryAfterSeconds ?? backoffSeconds(job.message.attempts);
        release.push(job);
      }
    }
    failures.set(providerId, !!result.failure);
  }

  const emailOf = (id: string) => live.find((j) => j.email!.id === id)!.email!;
  for (const [month, group] of groupBy(outcomes, (o) => emailOf(o.id).month)) await recordOutcomes(db, tenantId, month, group);
  await releaseEmails(db, tenantId, release);
  for (const [month, group] of groupBy(skipped, (j) => j.email!.month)) {
    await db.execute(sql`
      UPDATE messages SET status = 'skipped', error = 'every recipient is suppressed', updated_at = now()
      WHERE month = ${month}::date AND id = ANY(${pgArray(group.map((j) => j.email!.id))}::uuid[]) AND status = 'claimed'`);
  }

  // An email waiting for its idempotent replay is still `sending` to its reader.
  const final = [
    ...outcomes.map((o) => ({ id: o.id, status: o.status === "replaying" ? "sending" : o.status, event: o.status === "replaying" ? "sending" : o.status })),
    ...skipped.map((j) => ({ id: j.email!.id, status: "suppressed", event: "suppressed" })),
  ];
  if (final.length > 0) {
    await db.execute(sql`
      UPDATE emails e SET status = f.status, last_event = f.event, updated_at = now()
      FROM unnest(${pgArray(final.map((f) => f.id))}::uuid[], ${pgArray(final.map((f) => f.status))}::text[], ${pgArray(final.map((f) => f.event))}::text[]) AS f(id, status, event)
      WHERE e.tenant_id = ${tenantId} AND e.id = f.id`);
  }

  // Every leased provider was sent through, so each has its entry in `failures`.
  await Promise.all(reportLeaseOutcomes(env, leases, (id) => failures.get(id) === true));

  const now = new Date().toISOString();
  const events: EventInput[] = outcomes.filter((o) => o.status !== "replaying").map((o) => sendOutcomeEvent(o, now, recipientKey(emailOf(o.id).to_addresses[0]!)));
  if (events.length > 0) await publishEvents(env.EVENTS_QUEUE, tenantId, events).catch((err) => logger.warn("send events not queued", { err }));
  logger.debug("transactional batch", { emails: live.length, sent: outcomes.filter((o) => o.status === "sent").length, skipped: skipped.length, released: release.length, waiting: waiting.length });
}

/**
 * Leases one token per recipient for each email, walking its provider policy in order with the
 * transactional lane. A policy with no enabled provider left (disabled or deleted since acceptance)
 * cannot send: those emails fail now rather than wait for ever.
 */
async function lease(env: Env, jobs: Job[], policyOf: (j: Job) => string[], providers: Map<string, LoadedProvider>) {
  const assigned: { job: Job; provider: LoadedProvider }[] = [];
  const leases = new Map<string, BatchLease>();
  const unsendable: Job[] = [];
  for (const [, group] of groupBy(jobs, (j) => policyOf(j).join(","))) {
    const policy = policyOf(group[0]!);
    if (!policy.some((id) => providers.get(id)?.enabled)) {
      unsendable.push(...group);
      continue;
    }
    const recipients = (j: Job) => j.email!.to_addresses.length + j.email!.cc_addresses.length + j.email!.bcc_addresses.length;
    const leased = await leaseInPolicyOrder(env, policy, providers, group, recipients, "transactional");
    for (const { item, provider } of leased.assigned) assigned.push({ job: item, provider });
    for (const [id, l] of leased.leases) leases.set(id, l);
    for (const job of leased.waiting) job.retryAfter = leased.waitSeconds;
  }
  return { assigned, leases, unsendable };
}

async function render(env: Env, tenantId: string, e: ClaimedEmail): Promise<OutboundEmail> {
  const { html, headers } = await decorate(
    env,
    { tenantId, messageId: e.id, email: recipientKey(e.to_addresses[0]!), from: e.from_address, trackOpens: e.track_opens, trackClicks: e.track_clicks, listUnsubscribe: false },
    e.html,
  );
  return {
    id: e.id,
    from: e.from_address,
    to: e.to_addresses,
    cc: e.cc_addresses.length > 0 ? e.cc_addresses : undefined,
    bcc: e.bcc_addresses.length > 0 ? e.bcc_addresses : undefined,
    replyTo: e.reply_to.length > 0 ? e.reply_to.join(", ") : undefined,
    subject: e.subject,
    html,
    text: e.text,
    headers: { ...e.headers, ...headers, "X-Herald-Message": e.id },
  };
}

