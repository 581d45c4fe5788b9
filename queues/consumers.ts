import type { MessageHandler } from "./handler";

// The events queue carries tracking and webhook events; the transactional issue gives it a body.
export const handleEvent: MessageHandler = async (body, { logger }) => {
  logger.info("event received", { type: body.type });
};

/** Dead letters with no special handling are recorded loudly, then acknowledged. */
export const handleDeadLetter: MessageHandler = async (body, { logger }) => {
  logger.error("message dead-lettered", { type: body.type });
};
