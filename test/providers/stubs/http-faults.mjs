// The failures a "fault-<name>" recipient makes the HTTP stand-ins (http-stubs.mjs) inject.

/**
 * Failures a recipient "fault-<name>" asks for, each after the whole request was read.
 *   reset        the connection is reset, no answer        slowreset  the same, 300 ms later
 *   garbled      200 with a body that is not the answer     truncated  200, then reset mid-body
 *   truncated503 503, then reset mid-body                  <status>   that status (409, 500, 502, 504, …)
 * A 3xx status also carries Location: /_redirect-target?to=<recipients>, a stand-in for another host.
 */
const FAULT = /fault-(reset|slowreset|garbled|truncated503|truncated|\d{3})/;
/** Faults that strike after the provider did its work: only the answer is lost. */
export const PROCESSED = new Set(["reset", "slowreset", "garbled", "truncated"]);

export function faultOf(recipients) {
  for (const r of recipients) {
    const m = FAULT.exec(String(r));
    if (m) return m[1];
  }
  return undefined;
}

/** @returns {Promise<boolean>} whether the fault answered (or killed) the request */
export async function injectFault(fault, req, res, recipients) {
  const reset = () => req.socket.resetAndDestroy();
  const cutOff = (status) => {
    res.writeHead(status, { "content-type": "application/json", "content-length": "1000" });
    res.write('{"partial":');
    setTimeout(reset, 50);
  };
  if (fault === "reset") reset();
  else if (fault === "slowreset") setTimeout(reset, 300);
  else if (fault === "garbled") res.writeHead(200, { "content-type": "text/html" }).end("<html><body>502 upstream hiccup</body></html>");
  else if (fault === "truncated") cutOff(200);
  else if (fault === "truncated503") cutOff(503);
  else if (/^\d{3}$/.test(fault)) {
    const status = Number(fault);
    const body =
      status === 409
        ? {
            statusCode: 409,
            name: "concurrent_idempotent_requests",
            message: "Same idempotency key used while original request is still in progress.",
          }
        : { message: `stub: injected ${status}` };
    const location =
      status >= 300 && status < 400
        ? { location: `http://${req.headers.host}/_redirect-target?to=${encodeURIComponent(recipients.join(","))}` }
        : {};
    res.writeHead(status, { "content-type": "application/json", ...location }).end(JSON.stringify(body));
  } else return false;
  return true;
}
