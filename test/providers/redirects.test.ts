// Provider calls never follow a redirect (it would carry the credentials and the emails to a host
// nobody configured), and text herald keeps from a provider's answer is well-formed and bounded.
import { describe, expect, it } from "vitest";
import { createProvider } from "../../src/providers";
import { ProviderError } from "../../src/providers/types";
import { call, newTenant } from "../helpers";
import { address, captured, email, stubs } from "./helpers";

const s = stubs();

type Settings = Record<string, unknown>;
const HTTP_KINDS: { kind: string; config: Settings; credentials: Settings | null }[] = [
  { kind: "sink", config: { url: s.sinkFaultUrl }, credentials: { token: "sink-token" } },
  { kind: "resend", config: { base_url: s.resend.baseUrl }, credentials: { api_key: s.resend.apiKey } },
  { kind: "postmark", config: { base_url: s.postmark.baseUrl }, credentials: { server_token: s.postmark.serverToken } },
  { kind: "sendgrid", config: { base_url: s.sendgrid.baseUrl }, credentials: { api_key: s.sendgrid.apiKey } },
  { kind: "mailgun", config: { domain: s.mailgun.domain, base_url: s.mailgun.baseUrl }, credentials: { api_key: s.mailgun.apiKey } },
  {
    kind: "ses",
    config: { region: s.ses.region, base_url: s.ses.baseUrl },
    credentials: { access_key_id: s.ses.accessKeyId, secret_access_key: s.ses.secretAccessKey, session_token: s.ses.sessionToken },
  },
];

interface RedirectHit {
  to: string;
  method: string;
  authorized: boolean;
}

/** Requests that followed a 3xx fault's Location to the stand-in for another host. */
async function redirectHits(to: string): Promise<RedirectHit[]> {
  return (await (await fetch(`${s.control}/_redirect-hits?to=${encodeURIComponent(to)}`)).json()) as RedirectHit[];
}

async function failure(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe("redirects from a provider's API", () => {
  it("are never followed: 301, 302, 307 and 308 fail the call as misconfigured, nothing sent, for every HTTP kind", async () => {
    for (const c of HTTP_KINDS) {
      for (const status of [301, 302, 307, 308]) {
        const to = address(`fault-${status}`);
        const e = email({ to: [to] });
        const err = await failure(createProvider(c.kind as never, c.config, c.credentials).send([e]));
        expect([c.kind, status, err.kind, err.transient, err.ambiguous]).toEqual([c.kind, status, "misconfigured", false, false]);
        expect(err.message).toMatch(new RegExp(`answered ${status}, a redirect; herald does not follow redirects, so nothing was sent`));
        // The request reached the API once; nothing went on to the Location.
        expect(await captured(c.kind, to)).toHaveLength(1);
        expect([c.kind, status, await redirectHits(to)]).toEqual([c.kind, status, []]);
      }
    }
  });

  it("reads 303 See Other as ambiguous: RFC 9110 uses it for the result of a request that was processed", async () => {
    const to = address("fault-303");
    const e = email({ to: [to] });
    const err = await failure(createProvider("sendgrid", { base_url: s.sendgrid.baseUrl }, { api_key: s.sendgrid.apiKey }).send([e]));
    expect(err.kind).toBe("ambiguous");
    expect(err.ambiguousIds).toEqual([e.id]);
    expect(await redirectHits(to)).toEqual([]);
  });

  it("reports a redirect through the provider test endpoint as a failed, misconfigured send, without following it", async () => {
    const { apiKey } = await newTenant();
    const res = await call("/v1/providers", {
      method: "POST",
      token: apiKey,
      json: { name: "r", kind: "resend", config: { base_url: s.resend.baseUrl }, credentials: { api_key: s.resend.apiKey } },
    });
    const { id } = (await res.json()) as { id: string };
    const to = address("fault-307");
    const test = await call(`/v1/providers/${id}/test`, { method: "POST", token: apiKey, json: { to } });
    expect(test.status).toBe(200);
    const result = (await test.json()) as { status: string; failure_kind: string; error: string };
    expect(result).toMatchObject({ status: "failed", failure_kind: "misconfigured" });
    expect(result.error).toMatch(/redirect/);
    expect(await redirectHits(to)).toEqual([]);
  });
});

/** An adapter whose API answers `status` with `body`, without any network. */
function answering(kind: "resend" | "mailgun", status: number, body: unknown) {
  const fetch = async () => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const config =
    kind === "resend" ? { base_url: "https://api.example.com" } : { domain: "mg.example.com", base_url: "https://api.example.com" };
  return createProvider(kind, config, { api_key: "k" }, { fetch });
}

describe("text kept from a provider's answer", () => {
  const LONE = "\uD800";

  it("replaces lone surrogates in, and clips by code points, the provider's message id", async () => {
    const e = email();
    const [result] = await answering("mailgun", 200, { id: `${LONE}<id@mg>${"😀".repeat(400)}`, message: "Queued" }).send([e]);
    expect(result!.status).toBe("accepted");
    const id = result!.providerMessageId!;
    expect(id.isWellFormed()).toBe(true);
    expect(id.startsWith("\uFFFD<id@mg>")).toBe(true);
    expect(Array.from(id).length).toBeLessThanOrEqual(256);
  });

  it("replaces lone surrogates in, and clips by code points, a provider's error text", async () => {
    const e = email();
    const err = await failure(answering("resend", 422, { message: `${LONE}${"😀".repeat(3000)}` }).send([e]));
    expect(err.message.isWellFormed()).toBe(true);
    expect(Array.from(err.message).length).toBeLessThanOrEqual(1000);
    const [rejected] = await answering("mailgun", 400, { message: `bad ${LONE}${"😀".repeat(3000)}` }).send([e]);
    expect(rejected!.status).toBe("rejected");
    expect(rejected!.error!.isWellFormed()).toBe(true);
    expect(Array.from(rejected!.error!).length).toBeLessThanOrEqual(300);
  });
});
