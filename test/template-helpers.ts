// Shared by the template suites: the API's template shape, creating one, and a template that uses
// every kind of variable.
import { expect } from "vitest";
import { call } from "./helpers";

export interface TemplateDto {
  id: string;
  name: string;
  subject: string;
  html?: string | null;
  text?: string | null;
  version: number;
  variables: string[];
  unknown_variables?: string[];
  created_at: string;
  updated_at: string;
}

export async function createTemplate(token: string, body: Record<string, unknown>): Promise<TemplateDto> {
  const res = await call("/v1/templates", { method: "POST", token, json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as TemplateDto;
}

export const WELCOME = {
  name: "welcome",
  subject: 'Welcome, {{ name | "friend" }}',
  html: '<p>Hi {{ name }}, your plan is {{ attributes.plan }}. {{ campaign.promo }}</p><a href="{{ unsubscribe_url }}">unsubscribe</a>',
  text: "Hi {{ name }}",
};
