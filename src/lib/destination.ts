import { config, type Settings } from "../config";
/**
 * Where herald may send tenants' data and credentials: the sink, provider APIs, SMTP servers and
 * webhook endpoints. A tenant chooses these addresses, so without a check a tenant could make the
 * Worker call into private networks, the loopback interface or a cloud metadata service, and read
 * the answers through the provider test endpoint or the webhook delivery log.
 *
 * Only literal addresses and reserved names can be judged here: the Workers runtime gives herald no
 * DNS resolver, so a public name that resolves to a private address is not caught. In production
 * that is bounded by Workers' own egress, which leaves through Cloudflare's network and not from
 * inside the operator's.
 *
 * Hosts are judged in the form the WHATWG URL parser gives them, which is also the form fetch()
 * connects to: "http://2130706433/" and "http://0x7f.1/" are both 127.0.0.1 by then.
 */

export interface DestinationPolicy {
  /** DEV_ALLOW_LOOPBACK=1: the local stack's stubs, sink and SMTP capture listen on loopback. */
  allowLoopback: boolean;
}

export function destinationPolicy(env: Settings): DestinationPolicy {
  return { allowLoopback: config(env).devAllowLoopback };
}

export type HostKind = "public" | "loopback" | "private" | "link-local" | "reserved" | "internal-name" | "invalid";

export interface HostClass {
  kind: HostKind;
  /** Why it is refused, in words that never repeat the host itself. */
  why: string;
}

const PUBLIC: HostClass = { kind: "public", why: "" };
const cls = (kind: HostKind, why: string): HostClass => ({ kind, why });

// --- IPv4 ---------------------------------------------------------------------------------------

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4Value(text: string): number | undefined {
  const m = DOTTED.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** [first address, prefix length, class]; first match wins. */
const V4_RANGES: [string, number, HostClass][] = [
  ["0.0.0.0", 8, cls("reserved", "is in 0.0.0.0/8 (this network)")],
  ["10.0.0.0", 8, cls("private", "is a private address (10.0.0.0/8)")],
  ["100.64.0.0", 10, cls("private", "is a carrier-grade NAT address (100.64.0.0/10)")],
  ["127.0.0.0", 8, cls("loopback", "is a loopback address")],
  ["169.254.0.0", 16, cls("link-local", "is a link-local address (169.254.0.0/16, where cloud metadata services live)")],
  ["172.16.0.0", 12, cls("private", "is a private address (172.16.0.0/12)")],
  ["192.0.0.0", 24, cls("reserved", "is reserved for IETF protocol assignments (192.0.0.0/24)")],
  ["192.0.2.0", 24, cls("reserved", "is a documentation address")],
  ["192.88.99.0", 24, cls("reserved", "is a deprecated 6to4 relay address")],
  ["192.168.0.0", 16, cls("private", "is a private address (192.168.0.0/16)")],
  ["198.18.0.0", 15, cls("reserved", "is a benchmarking address (198.18.0.0/15)")],
  ["198.51.100.0", 24, cls("reserved", "is a documentation address")],
  ["203.0.113.0", 24, cls("reserved", "is a documentation address")],
  ["224.0.0.0", 4, cls("reserved", "is a multicast address")],
  ["240.0.0.0", 4, cls("reserved", "is a reserved address (240.0.0.0/4, broadcast included)")],
];

function inV4(value: number, base: string, bits: number): boolean {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (value & mask) >>> 0 === ipv4Value(base);
}

function classifyV4(value: number): HostClass {
  for (const [base, bits, c] of V4_RANGES) if (inV4(value, base, bits)) return c;
  return PUBLIC;
}

// --- IPv6 ---------------------------------------------------------------------------------------

/** The eight 16-bit groups of an IPv6 address (no brackets, no zone), or undefined. */
export function ipv6Groups(text: string): number[] | undefined {
  let head = text;
  const tail: number[] = [];
  const v4 = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (v4) {
    const value = ipv4Value(v4[2]!);
    if (value === undefined) return undefined;
    head = v4[1]!.endsWith("::") ? v4[1]! : v4[1]!.slice(0, -1);
    tail.push(value >>> 16, value & 0xffff);
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN)));
  const left = parse(halves[0]!);
  const right = [...(halves.length === 2 ? parse(halves[1]!) : []), ...tail];
  if ([...left, ...right].some(Number.isNaN)) return undefined;
  if (halves.length === 1) return left.length + right.length === 8 ? [...left, ...right] : undefined;
  const zeros = 8 - left.length - right.length;
  return zeros >= 1 ? [...left, ...Array<number>(zeros).fill(0), ...right] : undefined;
}

function embeddedV4(hi: number, lo: number): number {
  return ((hi << 16) | lo) >>> 0;
}

function classifyV6(g: number[]): HostClass {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(7) && g[7] === 0) return cls("reserved", "is the unspecified address (::)");
  if (zeroUpTo(7) && g[7] === 1) return cls("loopback", "is a loopback address");
  // ::ffff:a.b.c.d reaches a.b.c.d itself, so it is judged as that address.
  if (zeroUpTo(5) && g[5] === 0xffff) return classifyV4(embeddedV4(g[6]!, g[7]!));
  if (zeroUpTo(6)) return cls("reserved", "is a deprecated IPv4-compatible IPv6 address");
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address they deliver to.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) {
    const c = classifyV4(embeddedV4(g[6]!, g[7]!));
    return c.kind === "public" ? c : cls(c.kind, `is a NAT64 address that ${c.why.replace(/^is /, "reaches ")}`);
  }
  if (g[0] === 0x64 && g[1] === 0xff9b) return cls("private", "is a local-use NAT64 address (64:ff9b:1::/48)");
  if (g[0] === 0x2002) {
    const c = classifyV4(embeddedV4(g[1]!, g[2]!));
    return c.kind === "public" ? c : cls(c.kind, `is a 6to4 address that ${c.why.replace(/^is /, "reaches ")}`);
  }
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return cls("private", "is a unique local address (fc00::/7)");
  if ((first & 0xffc0) === 0xfe80) return cls("link-local", "is a link-local address (fe80::/10)");
  if ((first & 0xff00) === 0xff00) return cls("reserved", "is a multicast address");
  // Global unicast is 2000::/3; within it, IETF protocol assignments (Teredo tunnels among them) and documentation.
  if ((first & 0xe000) !== 0x2000) return cls("reserved", "is not a global unicast address");
  if (first === 0x2001 && g[1]! < 0x200) return cls("reserved", "is reserved for IETF protocol assignments (2001::/23, Teredo included)");
  if (first === 0x2001 && g[1] === 0xdb8) return cls("reserved", "is a documentation address");
  if ((first & 0xfff0) === 0x3ff0) return cls("reserved", "is a documentation address (3fff::/20)");
  return PUBLIC;
}

// --- Names --------------------------------------------------------------------------------------

/**
 * Suffixes that name hosts inside a private network: RFC 6761/6762/8375, ICANN's .internal, and the
 * never-delegated names RFC 6762 Appendix G lists as in private use (.lan, .home, .corp, .intranet).
 */
const INTERNAL_SUFFIXES = ["local", "localdomain", "internal", "home.arpa", "lan", "home", "corp", "intranet"];

function classifyName(name: string): HostClass {
  if (name === "localhost" || name.endsWith(".localhost")) return cls("loopback", "is a loopback name");
  for (const suffix of INTERNAL_SUFFIXES) {
    if (name === suffix || name.endsWith(`.${suffix}`)) return cls("internal-name", `is a private-network name (.${suffix})`);
  }
  if (!name.includes(".")) return cls("internal-name", "is a single-label name, which resolves only inside a private network");
  return PUBLIC;
}

/**
 * Classifies a host as the URL parser serializes it (URL.hostname): lower-case, IPv4 in dotted
 * decimal, IPv6 in brackets. Use normalizeHost() first for a host that did not come from a URL.
 */
export function classifyHost(hostname: string): HostClass {
  const host = hostname.toLowerCase().replace(/\.+$/, "");
  if (host === "") return cls("invalid", "has no host");
  if (host.startsWith("[")) {
    const groups = host.endsWith("]") && !host.includes("%") ? ipv6Groups(host.slice(1, -1)) : undefined;
    return groups ? classifyV6(groups) : cls("invalid", "is not a valid IPv6 address");
  }
  const v4 = ipv4Value(host);
  if (v4 !== undefined) return classifyV4(v4);
  return classifyName(host);
}

/**
 * A host given on its own (an SMTP host) in the form URL.hostname would give it, or undefined when it
 * is not a valid host. Numeric IPv4 forms are normalized, as a resolver would read them.
 */
export function normalizeHost(raw: string): string | undefined {
  const bare = raw.trim().replace(/^\[(.*)\]$/, "$1");
  if (bare === "" || /[/?#@\s\\]/.test(bare)) return undefined;
  try {
    return new URL(`http://${bare.includes(":") ? `[${bare}]` : bare}/`).hostname;
  } catch {
    return undefined;
  }
}

export function isLoopback(hostname: string): boolean {
  return classifyHost(hostname).kind === "loopback";
}

// --- Checks -------------------------------------------------------------------------------------

function hostClassProblem(c: HostClass, policy: DestinationPolicy): string | undefined {
  if (c.kind === "public") return undefined;
  if (c.kind === "loopback" && policy.allowLoopback) return undefined;
  if (c.kind === "invalid") return `the host ${c.why}`;
  const hint = c.kind === "loopback" ? " (allowed only when DEV_ALLOW_LOOPBACK is 1, for the local stack)" : "";
  return `must be a public address: the host ${c.why}${hint}`;
}

/** Why herald refuses to send to this URL (https to a public address), or undefined. */
export function urlProblem(value: string, policy: DestinationPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an absolute URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an https URL";
  if (url.username !== "" || url.password !== "") return "must not carry a user name or password";
  const host = classifyHost(url.hostname);
  const problem = hostClassProblem(host, policy);
  if (problem) return problem;
  if (url.protocol === "http:" && host.kind !== "loopback") return "must be https (plain http only to a loopback host on the local stack)";
  return undefined;
}

/**
 * Why herald refuses to connect to this host (an SMTP server), or undefined. An IPv4 address must be
 * written in dotted decimal: other forms ("2130706433", "0x7f.1") are read differently by different
 * resolvers, so what is checked might not be what is dialled.
 */
export function hostProblem(raw: string, policy: DestinationPolicy): string | undefined {
  const host = normalizeHost(raw);
  if (host === undefined) return "must be a host name or IP address";
  const bare = raw
    .trim()
    .replace(/^\[(.*)\]$/, "$1")
    .toLowerCase()
    .replace(/\.+$/, "");
  if (ipv4Value(host) !== undefined && host !== bare) return "write an IPv4 address in dotted-decimal form (a.b.c.d)";
  return hostClassProblem(classifyHost(host), policy);
}
