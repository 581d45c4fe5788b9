import { DEFAULT_SNS_HOST, snsUrl } from "./ses";

/** SNS answers are a certificate or a short XML document; anything larger is not SNS talking. */
const MAX_BYTES = 64 * 1024;

/**
 * The route's downloads for the SNS verifier: the signing certificate and the SubscribeURL. The
 * verifier already checks both URLs, and this checks again where the request is made, so no caller
 * can send herald anywhere but https://sns.<region>.amazonaws.com(.cn). Redirects are never followed
 * (a 3xx is a failure): a redirect would take the request off the host that was checked.
 */
export async function fetchSnsText(url: string, fetcher: typeof fetch = fetch): Promise<string> {
  const target = snsUrl(url, DEFAULT_SNS_HOST, false);
  if (!target) throw new Error("not an SNS URL");
  const res = await fetcher(target, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new Error(`GET ${target} answered ${res.status}`);
  }
  if (Number(res.headers.get("content-length") ?? 0) > MAX_BYTES) {
    await res.body?.cancel();
    throw new Error(`GET ${target} answered more than ${MAX_BYTES} bytes`);
  }
  const text = await res.text();
  if (text.length > MAX_BYTES) throw new Error(`GET ${target} answered more than ${MAX_BYTES} bytes`);
  return text;
}
