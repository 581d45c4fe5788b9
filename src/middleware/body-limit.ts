import { bodyLimit } from "hono/body-limit";
import { HeraldError } from "../errors";

/** The documented default request body limit; routes that take bulk data raise it for themselves. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

export function limitBody(maxSize = DEFAULT_BODY_LIMIT_BYTES) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new HeraldError("payload_too_large", `the request body exceeds ${maxSize} bytes`);
    },
  });
}
