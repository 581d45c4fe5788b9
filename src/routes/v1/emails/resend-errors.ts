import { HeraldError, type ErrorCode } from "../../../errors";

/** The `name` Resend gives each kind of error, for clients built on Resend's SDK. */
const RESEND_NAMES: Partial<Record<ErrorCode, string>> = {
  bad_request: "validation_error",
  malformed_json: "validation_error",
  validation_failed: "validation_error",
  unauthorized: "invalid_api_key",
  forbidden: "restricted_api_key",
  not_found: "not_found",
  method_not_allowed: "method_not_allowed",
  conflict: "validation_error",
  payload_too_large: "validation_error",
  unsupported_media_type: "validation_error",
  rate_limited: "rate_limit_exceeded",
};

/**
 * Resend's SDK reads `statusCode`, `name` and `message` from an error body and nothing else, so
 * the /v1/emails routes add them to the problem+json body as extension members (RFC 9457 §3.2).
 */
export function withResendMembers(err: HeraldError): HeraldError {
  const ext = err.options.extensions ?? {};
  return new HeraldError(err.code, err.message, {
    ...err.options,
    extensions: {
      ...ext,
      statusCode: err.status,
      name: typeof ext.name === "string" ? ext.name : (RESEND_NAMES[err.code] ?? "application_error"),
      message: err.message,
    },
  });
}
