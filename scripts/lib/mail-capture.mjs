// The local SMTP capture server with a web UI for the captured mail (maildev), bound to loopback.
/**
 * @param {{ smtpPort: number, webPort: number }} options
 * @returns {Promise<{ webUrl: string, stop: () => Promise<void> }>}
 */
export async function startMailCapture({ smtpPort, webPort }) {
  const { MailDev } = await import("maildev");
  const maildev = new MailDev({
    smtp: smtpPort,
    ip: "127.0.0.1",
    web: webPort,
    webIp: "127.0.0.1",
    silent: true,
    // Bounded, so a big demo cannot exhaust memory; the oldest mail goes first.
    maxEmails: 20_000,
  });
  await maildev.start();
  return { webUrl: `http://127.0.0.1:${webPort}`, stop: () => maildev.stop() };
}
