import type { OutboundEmail } from "../providers/types";
import { decorate } from "../tracking/links";
import type { QueuedRecipient } from "./queue-messages";
import type { SendingContext } from "./sending-context";

/** One recipient's email from the campaign's compiled template, with tracking and unsubscribe links. */
export async function renderRecipient(
  env: Env,
  ctx: SendingContext,
  ids: { tenantId: string; campaignId: string; messageId: string },
  r: QueuedRecipient,
): Promise<OutboundEmail> {
  const out = ctx.template.render({ email: r.e, name: r.n, attributes: r.a, campaign: ctx.data });
  const { html, headers } = await decorate(
    env,
    {
      ...ids,
      contactId: r.c,
      email: r.e,
      from: ctx.fromAddress,
      trackOpens: ctx.trackOpens,
      trackClicks: ctx.trackClicks,
      listUnsubscribe: true,
    },
    out.html,
  );
  return {
    id: ids.messageId,
    from: ctx.fromAddress,
    to: [r.e],
    replyTo: ctx.replyTo ?? undefined,
    subject: out.subject,
    html,
    text: out.text,
    headers: { ...headers, "X-Herald-Campaign": ids.campaignId, "X-Herald-Message": ids.messageId },
  };
}
