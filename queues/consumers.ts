import type { MessageHandler } from "./handler";

// The consumers are wired and exercised now; the sending pipeline fills their bodies in.

export const handleSend: MessageHandler = async (body, { logger }) => {
  logger.info("send message received", { type: body.type });
};

export const handleFanout: MessageHandler = async (body, { logger }) => {
  logger.info("fan-out message received", { type: body.type });
};

export const handleEvent: MessageHandler = async (body, { logger }) => {
  logger.info("event received", { type: body.type });
};

/** Dead letters are the end of the line: record them loudly, then acknowledge. */
export const handleDeadLetter: MessageHandler = async (body, { logger }) => {
  logger.error("message dead-lettered", { type: body.type });
};
