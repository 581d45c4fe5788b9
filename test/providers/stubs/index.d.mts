import type { ProviderStubInfo } from "../../setup/provider-stubs";

export function startStubServers(): Promise<{ info: ProviderStubInfo; close: () => Promise<void> }>;
