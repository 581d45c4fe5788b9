import { sendFanouts } from "../src/campaigns/enqueue";
import { rangeMessage } from "../src/campaigns/queue-messages";
import { StoredValue } from "./stored-value";

/** A range of the audience as fan-out planned it: contact ids in (after, until]. */
export interface PlannedPage {
  seq: number;
  after: string | null;
  until: string;
  expected: number;
}

interface Plan {
  pages: PlannedPage[];
  /** Pages before this index have been queued to fan-out. */
  next: number;
  /** Recipients in the pages queued so far. */
  admitted: number;
}

/**
 * Fan-out admission for one campaign: its pages go to the fan-out queue only while the recipients
 * it has queued but not yet settled are under a cap, so one large campaign cannot fill the shared
 * send queue ahead of everyone else's. Settled is the live view's count, which may run a little
 * ahead or behind; a cap only has to be roughly right.
 */
export class Admission {
  private readonly stored: StoredValue<Plan>;
  private plan: Plan | undefined;

  constructor(sql: SqlStorage) {
    this.stored = new StoredValue(sql, "admission");
    this.plan = this.stored.load();
  }

  get planned(): boolean {
    return this.plan !== undefined;
  }

  /** True when every page has been queued (or there is no plan: fan-out pages by itself). */
  get allAdmitted(): boolean {
    return !this.plan || this.plan.next >= this.plan.pages.length;
  }

  /** A new launch (retry-failed of an old one included) starts without a plan. */
  reset(): void {
    this.plan = undefined;
    this.stored.clear();
  }

  setPlan(pages: PlannedPage[]): void {
    this.plan = { pages: [...pages].sort((a, b) => a.seq - b.seq), next: 0, admitted: 0 };
    this.stored.save(this.plan);
  }

  /**
   * The pages to queue now: the next ones while the recipients admitted but not settled stay under
   * `cap` (so at least one when nothing is in flight). Nothing is marked until `commit`, after the
   * caller queued them: a crash in between queues a page twice, which fan-out shrugs off, rather
   * than never.
   */
  peek(settled: number, cap: number): PlannedPage[] {
    const plan = this.plan;
    if (!plan) return [];
    const out: PlannedPage[] = [];
    let admitted = plan.admitted;
    for (let i = plan.next; i < plan.pages.length && admitted - settled < cap; i++) {
      out.push(plan.pages[i]!);
      admitted += plan.pages[i]!.expected;
    }
    return out;
  }

  commit(pages: PlannedPage[]): void {
    const plan = this.plan;
    if (!plan || pages.length === 0) return;
    plan.next += pages.length;
    plan.admitted += pages.reduce((n, p) => n + p.expected, 0);
    this.stored.save(plan);
  }

  /** Pages already admitted: a resume queues them again, since pausing dropped their send messages. */
  admittedPages(): PlannedPage[] {
    return this.plan ? this.plan.pages.slice(0, this.plan.next) : [];
  }

  /** Puts pages on the fan-out queue as range steps. */
  async queue(env: Env, tenantId: string, campaignId: string, pages: PlannedPage[]): Promise<void> {
    await sendFanouts(
      env,
      pages.map((p) => rangeMessage(tenantId, campaignId, p)),
    );
  }
}
