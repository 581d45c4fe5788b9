import type { Invocation } from "../lib/chaos";
import type { LoadedProvider } from "../providers/registry";
import type { Db } from "../services/db";
import type { Logger } from "../services/logger";
import type { SendMessage } from "./queue-messages";

/** One queue message of the chunk and what became of it; the consumer acks, retries or re-queues from this. */
export interface SendJob {
  messageId: string;
  attempts: number;
  body: SendMessage;
  provider?: LoadedProvider;
  /** A failure: retry the message after this many seconds (counts toward its retries). */
  retryAfter?: number;
  /** Send these recipients again after `seconds`, as a new message (waiting is not a failure). */
  requeue?: { body: SendMessage; seconds: number }[];
  /** Nothing more to do for this message: acknowledge it. */
  drop?: boolean;
}

export interface ChunkDeps {
  env: Env;
  db: Db;
  logger: Logger;
  /** Outgoing requests this invocation may still make to providers (Workers cap subrequests per invocation). */
  budget: { calls: number };
  crash: Invocation;
  backoff: (attempts: number) => number;
}
