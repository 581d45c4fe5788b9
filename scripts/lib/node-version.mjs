// wrangler, miniflare, vitest 5 and Node's global WebSocket need Node >= 22.12.
export function requireNode22() {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 12)) {
    console.error(`herald needs Node >= 22.12 (this is ${process.version})`);
    process.exit(1);
  }
}
