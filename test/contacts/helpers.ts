// Shared by the contacts tests (test/contacts/*): contacts, lists, scoped keys and imports made through the API.
import { expect } from "vitest";
import { call } from "../helpers";

export interface ContactDto {
  id: string;
  email: string;
  name: string | null;
  attributes: Record<string, unknown>;
  status: string;
  created_at: string;
  updated_at: string;
}

export interface ImportResult {
  created: number;
  updated: number;
  errors: { row: number; field: string; message: string }[];
}

export async function keyWith(token: string, scopes: string[]): Promise<string> {
  const res = await call("/v1/api-keys", { method: "POST", token, json: { name: scopes.join(" "), scopes } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { key: string }).key;
}

export async function createContact(token: string, body: Record<string, unknown>): Promise<ContactDto> {
  const res = await call("/v1/contacts", { method: "POST", token, json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as ContactDto;
}

export async function listAll(token: string, query = ""): Promise<ContactDto[]> {
  const res = await call(`/v1/contacts?limit=100${query}`, { token });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { data: ContactDto[] }).data;
}

export async function importJson(token: string, rows: unknown, query = ""): Promise<Response> {
  return call(`/v1/contacts/import${query}`, { method: "POST", token, json: rows });
}

export async function importCsv(token: string, csv: string, query = ""): Promise<Response> {
  return call(`/v1/contacts/import${query}`, { method: "POST", token, headers: { "content-type": "text/csv" }, body: csv });
}

export async function imported(res: Response): Promise<ImportResult> {
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as ImportResult;
}

export async function createList(token: string, name: string): Promise<string> {
  const res = await call("/v1/lists", { method: "POST", token, json: { name } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}
