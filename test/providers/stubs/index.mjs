// Starts every provider stand-in for the test run (called from test/setup/provider-stubs.ts).
import { startSinkServer } from "../../../scripts/lib/sink-server.mjs";
import { SLOW_MS, startHttpStubs } from "./http-stubs.mjs";
import { closedPort, startFaultSmtp, startSilentServer, startSmtpStubs } from "./smtp-stub.mjs";

/** Test-only credentials: the stand-ins accept these and nothing else. */
const CREDS = {
  resend: { apiKey: "re_test_herald_0123456789" },
  postmark: { serverToken: "pm-test-server-token-0123456789" },
  sendgrid: { apiKey: "SG.test-herald.0123456789" },
  mailgun: { apiKey: "key-test-herald-0123456789", domain: "mg.herald.test" },
  ses: {
    region: "eu-west-1",
    accessKeyId: "AKIAHERALDTEST0001",
    secretAccessKey: "herald/test/Secret+Key0123456789abcdefXYZ",
    sessionToken: "herald-test-session-token",
  },
  smtp: { username: "herald-smtp-user", password: "s3cret pass: with spaces" },
};

export async function startStubServers() {
  const rejectMarked = (m) => (m.to.some((t) => String(t).includes("reject")) ? "recipient refused by the sink" : undefined);
  const sink = await startSinkServer({ reject: rejectMarked });
  const sinkFaulty = await startSinkServer({ reject: rejectMarked });
  const smtp = await startSmtpStubs(CREDS.smtp);
  const silent = await startSilentServer();
  const faultSmtp = await startFaultSmtp();
  const http = await startHttpStubs({ creds: CREDS, smtpMessages: smtp.messages, faultSmtpLog: faultSmtp.log, sinkFaulty });
  const info = {
    control: http.url,
    slowMs: SLOW_MS,
    resend: { baseUrl: `${http.url}/resend`, apiKey: CREDS.resend.apiKey },
    postmark: { baseUrl: `${http.url}/postmark`, serverToken: CREDS.postmark.serverToken },
    sendgrid: { baseUrl: `${http.url}/sendgrid`, apiKey: CREDS.sendgrid.apiKey },
    mailgun: { baseUrl: `${http.url}/mailgun`, apiKey: CREDS.mailgun.apiKey, domain: CREDS.mailgun.domain },
    ses: { baseUrl: `${http.url}/ses`, ...CREDS.ses },
    sink: { url: sink.url, faultyUrl: sinkFaulty.url },
    smtp: { host: "127.0.0.1", port: smtp.port, openPort: smtp.openPort, starttlsPort: smtp.starttlsPort, ...CREDS.smtp },
    silentPort: silent.port,
    // Not in ProviderStubInfo (test/setup): test/providers/helpers.ts types the fault stand-ins.
    faultSmtpPort: faultSmtp.port,
    sinkFaultUrl: `${http.url}/sink`,
    closedPort: await closedPort(),
  };
  return {
    info,
    close: async () => {
      await http.close();
      await silent.close();
      await faultSmtp.close();
      await smtp.close();
      await sinkFaulty.close();
      await sink.close();
    },
  };
}
