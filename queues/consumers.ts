import type { MessageHandler } from "./handler";

/** Dead letters with no special handling are recorded loudly, then acknowledged. */
export const handleDeadLetter: MessageHandler = async (body, { logger }) => {
  logger.error("message dead-lettered", { type: body.type });
};
