import { expect } from "vitest";
import { call } from "./helpers";

export interface EmailDto {
  id: string;
  status: string;
  last_event: string;
  to: string[];
  events: { type: string }[];
  [k: string]: unknown;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function getEmail(apiKey: string, id: string): Promise<EmailDto> {
  const res = await call(`/v1/emails/${id}`, { token: apiKey });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as EmailDto;
}

export async function waitForEmail(apiKey: string, id: string, check: (e: EmailDto) => boolean, timeoutMs = 15_000): Promise<EmailDto> {
  const until = Date.now() + timeoutMs;
  let last = await getEmail(apiKey, id);
  while (!check(last) && Date.now() < until) {
    await sleep(100);
    last = await getEmail(apiKey, id);
  }
  return last;
}
