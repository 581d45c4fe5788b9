// fast-check arbitraries for the fuzz suite: values shaped by an OpenAPI (JSON Schema) node, with
// hostile values mixed in at every level, and the hostile pools themselves.
import fc from "fast-check";

export type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
};

export const nested = (depth: number): unknown => (depth === 0 ? 1 : { a: nested(depth - 1) });

/** Strings that have broken parsers, databases, templates, headers and URL handling somewhere. */
export const HOSTILE_STRINGS: string[] = [
  "",
  " ",
  "\t",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff",
  "x\ud83d",
  "\ud83d\ude00".repeat(40),
  "\u202egnp.exe",
  "Ａ",
  "İ",
  "ß",
  "' OR '1'='1",
  "'; DROP TABLE contacts; --",
  "$1",
  "\\",
  "%00",
  "%ED%A0%80",
  "%",
  "../../../etc/passwd",
  "/",
  "?",
  "#",
  "<script>alert(1)</script>",
  "{{constructor.constructor('return process')()}}",
  "{{#each x}}",
  "{{",
  "}}",
  "__proto__",
  "constructor",
  "prototype",
  "\r\nX-Injected: 1",
  "a".repeat(10_000),
  "9".repeat(400),
  "-1",
  "0",
  "1e309",
  "NaN",
  "Infinity",
  "null",
  "true",
  "[]",
  "{}",
  "0x10",
  "00000000-0000-0000-0000-000000000000",
  "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
  "0190b1b2-7c1e-7a3b-9f00-0123456789ab",
  "javascript:alert(1)",
  "http://169.254.169.254/latest/meta-data/",
  "http://127.0.0.1:1/",
  "file:///etc/passwd",
  "https://[::1]/",
  "a@b",
  "@",
  "a@b@c",
  '"q"@b.test',
  "a@b.test\r\nBcc: x@y.test",
  "Name <a@b.test>",
  "<>",
  "ada@example.test",
  "2020-01-01T00:00:00Z",
  "2999-12-31T23:59:59Z",
  "1970-01-01",
  "not-a-date",
];

export const HOSTILE_NUMBERS: number[] = [0, -0, -1, 1, 0.5, -0.5, 2 ** 31 - 1, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, -1e308, 1e-320];

/** Any hostile JSON value: wrong types, extremes, deep and wide structures. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.constantFrom(...HOSTILE_NUMBERS),
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    [],
    {},
    [null],
    { __proto__: { admin: true } },
    nested(28),
    Array.from({ length: 2000 }, (_, i) => i),
  ),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.jsonValue({ maxDepth: 4 }),
);

type Components = Record<string, Schema>;

/** A value for `schema`: mostly plausible, with a hostile value substituted at any node. */
export function valueFor(schema: Schema | undefined, components: Components, depth = 0): fc.Arbitrary<unknown> {
  const plausible = depth > 6 ? fc.constant(null) : plausibleFor(schema ?? {}, components, depth);
  return fc.oneof({ weight: 6, arbitrary: plausible }, { weight: 1, arbitrary: hostileValue });
}

function plausibleFor(schema: Schema, components: Components, depth: number): fc.Arbitrary<unknown> {
  if (schema.$ref) return valueFor(components[schema.$ref.replace("#/components/schemas/", "")], components, depth + 1);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => valueFor(s, components, depth + 1)));
  if (schema.allOf?.length) return valueFor(schema.allOf[0], components, depth + 1);
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length > 1) return fc.oneof(...types.map((type) => plausibleFor({ ...schema, type }, components, depth)));
  switch (types[0]) {
    case "object":
      return objectFor(schema, components, depth);
    case "array":
      return fc.array(valueFor(schema.items, components, depth + 1), { minLength: 0, maxLength: Math.min(schema.maxItems ?? 5, 5) });
    case "string":
      return stringFor(schema);
    case "integer":
      return fc.integer({ min: Math.max(schema.minimum ?? -1000, -1e6), max: Math.min(schema.maximum ?? 1e6, 1e6) });
    case "number":
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6 });
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 3 });
  }
}

function objectFor(schema: Schema, components: Components, depth: number): fc.Arbitrary<unknown> {
  const props = schema.properties ?? {};
  const keys = Object.keys(props);
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const key of keys) shape[key] = valueFor(props[key], components, depth + 1);
  // Required keys are usually present, optional ones sometimes, and now and then an unknown key.
  const record = keys.length
    ? fc.record(shape, { requiredKeys: (schema.required ?? []).filter((k) => k in shape) }).chain((r) =>
        fc
          .record({
            drop: fc.subarray(Object.keys(r), { maxLength: 1 }),
            extra: fc.oneof(
              { weight: 7, arbitrary: fc.constant(null) },
              { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...HOSTILE_STRINGS.slice(0, 30), "unknown_field"), hostileValue) },
            ),
          })
          .map(({ drop, extra }) => {
            const out: Record<string, unknown> = { ...r };
            for (const k of drop) delete out[k];
            if (extra) out[extra[0]] = extra[1];
            return out;
          }),
      )
    : fc.dictionary(fc.oneof(fc.constantFrom(...HOSTILE_STRINGS.slice(0, 40)), fc.string({ maxLength: 12 })), hostileValue, { maxKeys: 6 });
  return record;
}

function stringFor(schema: Schema): fc.Arbitrary<string> {
  const max = Math.min(schema.maxLength ?? 60, 60);
  switch (schema.format) {
    case "uuid":
      return fc.uuid();
    case "email":
      return fc.emailAddress();
    case "date-time":
      return fc
        .date({ min: new Date(Date.now() - 86_400_000), max: new Date(Date.now() + 40 * 86_400_000), noInvalidDate: true })
        .map((d) => d.toISOString());
    case "uri":
    case "url":
      return fc.webUrl();
    default:
      return fc.oneof(fc.string({ minLength: Math.min(schema.minLength ?? 0, max), maxLength: max }), fc.emailAddress(), fc.webUrl());
  }
}

/** Percent-encodes for a URL path or query; lone surrogates (which encodeURIComponent refuses) go as raw bytes. */
export function encodePart(value: string): string {
  return value.isWellFormed() ? encodeURIComponent(value) : encodeURIComponent(value.toWellFormed()).replace(/%EF%BF%BD/g, "%ED%A0%80");
}

/**
 * A deterministic body with every property present and plausible, down to free-form maps (which
 * get one string and one nested object), so spoiling it reaches every field a route reads.
 */
export function fullSample(schema: Schema | undefined, components: Components, depth = 0, name = ""): unknown {
  if (!schema || depth > 8) return "s";
  if (schema.$ref) return fullSample(components[schema.$ref.replace("#/components/schemas/", "")], components, depth + 1, name);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const alternatives = schema.anyOf ?? schema.oneOf ?? schema.allOf;
  if (alternatives?.length) return fullSample(alternatives.find((a) => a.type !== "null") ?? alternatives[0], components, depth + 1, name);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  switch (type) {
    case "object": {
      const props = Object.entries(schema.properties ?? {});
      if (props.length === 0) return { k: "v", nested: { inner: "x" } };
      return Object.fromEntries(props.map(([k, v]) => [k, fullSample(v, components, depth + 1, k)]));
    }
    case "array":
      return [fullSample(schema.items, components, depth + 1, name)];
    case "string":
      if (schema.format === "uuid") return "0190b1b2-7c1e-7a3b-9f00-0123456789ab";
      if (schema.format === "date-time") return new Date(Date.now() + 86_400_000).toISOString();
      // Address fields carry patterns rather than formats; the name tells.
      if (schema.format === "email" || /email|^(from|to|cc|bcc|reply_to)$/.test(name)) return "fuzz@example.test";
      if (/url|endpoint/.test(name)) return "https://example.test/hook";
      return "s";
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return true;
    default:
      return { k: "v", nested: { inner: "x" } };
  }
}
