// Small helpers the HTTP stand-ins (http-stubs.mjs and its handler modules) share.

/** @param {Buffer} body */
export function parseJson(body) {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

export const isStr = (v) => typeof v === "string" && v.length > 0;
export const list = (v) => (Array.isArray(v) ? v : isStr(v) ? v.split(",").map((s) => s.trim()) : []);
export const marked = (recipients, word) => recipients.some((r) => String(r).includes(word));
