// Local stand-ins for the email providers' HTTP APIs and a real SMTP server, started by the global
// setup. Each stand-in checks the request shape its provider documents. The servers themselves are
// Node code in test/providers/stubs/ (plain .mjs, so the worker typecheck never sees Node's types).
import { startStubServers } from "../providers/stubs/index.mjs";

export interface ProviderStubInfo {
  /**
   * Root of the HTTP stand-ins. GET /_captured?provider=&to= lists the requests naming a recipient;
   * GET /_smtp/messages?to= lists SMTP mail parsed by mailparser; POST /_sink/fail {status,count}
   * makes the faulty sink answer `status` to its next `count` requests.
   */
  control: string;
  /** How long a "slow" recipient delays an HTTP stand-in's answer. */
  slowMs: number;
  resend: { baseUrl: string; apiKey: string };
  postmark: { baseUrl: string; serverToken: string };
  sendgrid: { baseUrl: string; apiKey: string };
  mailgun: { baseUrl: string; apiKey: string; domain: string };
  ses: { baseUrl: string; region: string; accessKeyId: string; secretAccessKey: string; sessionToken: string };
  /** url: the shared sink (scripts/lib/sink-server.mjs); faultyUrl: a private one for failure injection. */
  sink: { url: string; faultyUrl: string };
  /**
   * port requires AUTH; openPort takes mail without it; neither offers TLS. starttlsPort offers
   * STARTTLS with smtp-server's bundled self-signed certificate, which workerd rightly distrusts.
   */
  smtp: { host: string; port: number; openPort: number; starttlsPort: number; username: string; password: string };
  /** Accepts TCP connections and never answers. */
  silentPort: number;
  /** Nothing listens here. */
  closedPort: number;
}

export async function startProviderStubs(): Promise<{ info: ProviderStubInfo; close: () => Promise<void> }> {
  return startStubServers();
}
