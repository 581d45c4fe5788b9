// .dev.vars holds local secrets (git-ignored). On first run it is written from .dev.vars.example with
// fresh random secrets, so a new clone needs no manual step.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const GENERATED = {
  JWT_SECRET: () => randomBytes(32).toString("base64url"),
  ADMIN_SECRET: () => randomBytes(24).toString("base64url"),
  TRACKING_SECRET: () => randomBytes(32).toString("base64url"),
  ENCRYPTION_KEY: () => randomBytes(32).toString("base64"),
};

export function ensureDevVars(path = ".dev.vars", example = ".dev.vars.example") {
  if (!existsSync(path)) {
    const lines = readFileSync(example, "utf8")
      .split("\n")
      .map((line) => {
        const m = /^([A-Z_]+)=/.exec(line);
        return m && GENERATED[m[1]] ? `${m[1]}=${GENERATED[m[1]]()}` : line;
      });
    writeFileSync(path, lines.join("\n"), { mode: 0o600 });
  }
  return parseDevVars(readFileSync(path, "utf8"));
}

export function parseDevVars(text) {
  const vars = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\s*$/.exec(line);
    if (m) vars[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return vars;
}
