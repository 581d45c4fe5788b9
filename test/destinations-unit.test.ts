import { describe, expect, it } from "vitest";
import { classifyHost, hostProblem, ipv6Groups, normalizeHost, urlProblem } from "../src/lib/destination";

const PROD = { allowLoopback: false };
const DEV = { allowLoopback: true };

/** The host of a URL as fetch() will dial it. */
const hostOf = (url: string) => new URL(url).hostname;

describe("classifyHost", () => {
  it("refuses loopback, private, CGNAT, link-local, this-network, multicast and reserved IPv4", () => {
    const cases: [string, string][] = [
      ["127.0.0.1", "loopback"],
      ["127.255.0.9", "loopback"],
      ["10.0.0.1", "private"],
      ["172.16.0.1", "private"],
      ["172.31.255.255", "private"],
      ["192.168.1.1", "private"],
      ["100.64.0.1", "private"],
      ["100.127.255.254", "private"],
      ["169.254.169.254", "link-local"],
      ["0.0.0.0", "reserved"],
      ["0.1.2.3", "reserved"],
      ["224.0.0.1", "reserved"],
      ["239.255.255.250", "reserved"],
      ["240.0.0.1", "reserved"],
      ["255.255.255.255", "reserved"],
      ["192.0.2.10", "reserved"],
      ["198.18.0.1", "reserved"],
    ];
    for (const [host, kind] of cases) expect([host, classifyHost(host).kind]).toEqual([host, kind]);
  });

  it("accepts public IPv4, including the neighbours of every refused range", () => {
    for (const host of [
      "8.8.8.8",
      "1.1.1.1",
      "172.15.255.255",
      "172.32.0.1",
      "100.63.255.255",
      "100.128.0.1",
      "169.253.0.1",
      "11.0.0.1",
      "223.255.255.255",
      "192.169.0.1",
    ]) {
      expect([host, classifyHost(host).kind]).toEqual([host, "public"]);
    }
  });

  it("reads the odd IPv4 forms as the URL parser (and fetch) does: decimal, hex, octal, short, trailing dot", () => {
    for (const url of [
      "http://2130706433/",
      "http://0x7f.1/",
      "http://0x7f000001/",
      "http://017700000001/",
      "http://127.1/",
      "http://127.0.0.1./",
      "http://0177.0.0.1/",
    ]) {
      expect([url, classifyHost(hostOf(url)).kind]).toEqual([url, "loopback"]);
    }
    expect(classifyHost(hostOf("http://0xa9.0xfe.0xa9.0xfe/")).kind).toBe("link-local");
    expect(classifyHost(hostOf("http://3232235777/")).kind).toBe("private"); // 192.168.1.1
    expect(classifyHost(hostOf("http://0/")).kind).toBe("reserved");
  });

  it("refuses IPv6 loopback, unspecified, ULA, link-local, multicast, and IPv4-mapped forms of refused IPv4", () => {
    const cases: [string, string][] = [
      ["http://[::1]/", "loopback"],
      ["http://[0:0:0:0:0:0:0:1]/", "loopback"],
      ["http://[::]/", "reserved"],
      ["http://[fc00::1]/", "private"],
      ["http://[fd12:3456::1]/", "private"],
      ["http://[fe80::1]/", "link-local"],
      ["http://[febf::1]/", "link-local"],
      ["http://[ff02::1]/", "reserved"],
      ["http://[::ffff:127.0.0.1]/", "loopback"],
      ["http://[::ffff:7f00:1]/", "loopback"],
      ["http://[::ffff:169.254.169.254]/", "link-local"],
      ["http://[::ffff:10.0.0.1]/", "private"],
      ["http://[::127.0.0.1]/", "reserved"],
      ["http://[64:ff9b::a9fe:a9fe]/", "link-local"],
      ["http://[2002:7f00:1::]/", "loopback"],
      ["http://[2001:db8::1]/", "reserved"],
      ["http://[2001::1]/", "reserved"],
      ["http://[fec0::1]/", "reserved"],
    ];
    for (const [url, kind] of cases) expect([url, classifyHost(hostOf(url)).kind]).toEqual([url, kind]);
    for (const url of ["http://[2606:4700:4700::1111]/", "http://[::ffff:8.8.8.8]/", "http://[2a00:1450:4001::200e]/"]) {
      expect([url, classifyHost(hostOf(url)).kind]).toEqual([url, "public"]);
    }
  });

  it("refuses names of loopback and private networks, and single-label names", () => {
    const cases: [string, string][] = [
      ["localhost", "loopback"],
      ["LOCALHOST.", "loopback"],
      ["api.localhost", "loopback"],
      ["printer.local", "internal-name"],
      ["metadata.google.internal", "internal-name"],
      ["db.internal", "internal-name"],
      ["nas.home.arpa", "internal-name"],
      ["box.localdomain", "internal-name"],
      ["router.lan", "internal-name"],
      ["metadata", "internal-name"],
      ["kubernetes", "internal-name"],
    ];
    for (const [host, kind] of cases) expect([host, classifyHost(host).kind]).toEqual([host, kind]);
    for (const host of ["api.resend.com", "email.eu-west-1.amazonaws.com", "local.example.com", "internal.example.com"]) {
      expect([host, classifyHost(host).kind]).toEqual([host, "public"]);
    }
  });

  it("parses IPv6 groups, with :: and a dotted IPv4 tail", () => {
    expect(ipv6Groups("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups("::ffff:1.2.3.4")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
    expect(ipv6Groups("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ipv6Groups("1::2::3")).toBeUndefined();
    expect(ipv6Groups("1:2:3:4:5:6:7:8:9")).toBeUndefined();
    expect(ipv6Groups("12345::")).toBeUndefined();
  });
});

describe("urlProblem", () => {
  it("in production, wants https to a public address", () => {
    expect(urlProblem("https://api.resend.com", PROD)).toBeUndefined();
    expect(urlProblem("https://8.8.8.8:8443/x", PROD)).toBeUndefined();
    expect(urlProblem("http://api.resend.com", PROD)).toMatch(/https/);
    expect(urlProblem("http://127.0.0.1:8787/", PROD)).toMatch(/loopback.*DEV_ALLOW_LOOPBACK/);
    expect(urlProblem("https://localhost/", PROD)).toMatch(/loopback/);
    expect(urlProblem("http://2130706433/", PROD)).toMatch(/loopback/);
    expect(urlProblem("https://169.254.169.254/latest/meta-data/", PROD)).toMatch(/link-local/);
    expect(urlProblem("https://metadata.google.internal/computeMetadata/v1/", PROD)).toMatch(/private-network name/);
    expect(urlProblem("https://user:pw@api.example.com/", PROD)).toMatch(/user name or password/);
    expect(urlProblem("ftp://api.example.com/", PROD)).toMatch(/https/);
    expect(urlProblem("not a url", PROD)).toMatch(/absolute URL/);
  });

  it("with DEV_ALLOW_LOOPBACK, allows loopback over plain http, and still refuses private and metadata addresses", () => {
    expect(urlProblem("http://127.0.0.1:8787/", DEV)).toBeUndefined();
    expect(urlProblem("http://localhost:8787/", DEV)).toBeUndefined();
    expect(urlProblem("http://[::1]:8787/", DEV)).toBeUndefined();
    expect(urlProblem("http://0x7f.1/", DEV)).toBeUndefined();
    expect(urlProblem("http://api.example.com/", DEV)).toMatch(/https/);
    expect(urlProblem("https://10.0.0.1/", DEV)).toMatch(/private/);
    expect(urlProblem("https://169.254.169.254/", DEV)).toMatch(/link-local/);
    expect(urlProblem("http://[::ffff:169.254.169.254]/", DEV)).toMatch(/link-local/);
  });

  it("never repeats the host in its reason", () => {
    expect(urlProblem("https://secret-host-name.internal/", PROD)).not.toContain("secret-host-name");
    expect(urlProblem("https://10.11.12.13/", PROD)).not.toContain("10.11.12.13");
  });
});

describe("hostProblem (SMTP hosts)", () => {
  it("refuses loopback in production, private and metadata always, and odd IPv4 forms whatever they mean", () => {
    expect(hostProblem("smtp.example.com", PROD)).toBeUndefined();
    expect(hostProblem("203.0.114.7", PROD)).toBeUndefined();
    expect(hostProblem("127.0.0.1", PROD)).toMatch(/loopback/);
    expect(hostProblem("127.0.0.1", DEV)).toBeUndefined();
    expect(hostProblem("[::1]", DEV)).toBeUndefined();
    expect(hostProblem("localhost", PROD)).toMatch(/loopback/);
    expect(hostProblem("10.1.2.3", DEV)).toMatch(/private/);
    expect(hostProblem("169.254.169.254", DEV)).toMatch(/link-local/);
    expect(hostProblem("::ffff:10.0.0.1", DEV)).toMatch(/private/);
    expect(hostProblem("mail.internal", PROD)).toMatch(/private-network name/);
    for (const odd of ["2130706433", "0x7f.1", "127.1", "0177.0.0.1", "134744072" /* 8.8.8.8 */]) {
      expect([odd, hostProblem(odd, DEV)]).toEqual([odd, expect.stringMatching(/dotted-decimal/)]);
    }
    expect(hostProblem("bad host", PROD)).toMatch(/host name/);
    expect(normalizeHost("SMTP.Example.COM")).toBe("smtp.example.com");
  });
});
