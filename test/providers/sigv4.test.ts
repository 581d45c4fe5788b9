import { AwsV4Signer } from "aws4fetch";
import { describe, expect, it } from "vitest";

// herald signs SES requests with aws4fetch (src/providers/ses.ts). These pin aws4fetch, configured
// as ses.ts configures it (allHeaders), to the AWS Signature Version 4 test suite: its credentials,
// clock, region and service.
const SUITE = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  region: "us-east-1",
  service: "service",
  datetime: "20150830T123600Z",
  allHeaders: true,
};
const CREDENTIAL = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

function signer(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; sessionToken?: string } = {}) {
  return new AwsV4Signer({ ...SUITE, method: "GET", ...init, url: `https://example.amazonaws.com${url}` });
}

async function authorization(url: string, init?: Parameters<typeof signer>[1]): Promise<string> {
  return (await signer(url, init).sign()).headers.get("authorization")!;
}

describe("aws4fetch against the AWS SigV4 test suite", () => {
  it("matches the get-vanilla vector", async () => {
    expect(await authorization("/")).toBe(
      `${CREDENTIAL}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
    );
  });

  it("sorts the query string as the get-vanilla-query-order-key-case vector expects", async () => {
    expect(await authorization("/?Param2=value2&Param1=value1")).toMatch(
      /Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500$/,
    );
  });

  it("leaves unreserved characters alone (get-vanilla-query-unreserved, get-unreserved)", async () => {
    const unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    expect(await authorization(`/?${unreserved}=${unreserved}`)).toMatch(
      /Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197$/,
    );
    expect(await authorization(`/${unreserved}`)).toMatch(/Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f$/);
  });

  it("signs content-type and hashes the body (post-x-www-form-urlencoded)", async () => {
    const init = { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "Param1=value1" };
    expect(await authorization("/", init)).toBe(
      `${CREDENTIAL}, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a`,
    );
  });

  it("sends and signs a session token (post-sts-header-before)", async () => {
    const sessionToken =
      "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
    const { headers } = await signer("/", { method: "POST", sessionToken }).sign();
    expect(headers.get("x-amz-security-token")).toBe(sessionToken);
    expect(headers.get("authorization")).toBe(
      `${CREDENTIAL}, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead`,
    );
  });
});

describe("aws4fetch as herald uses it", () => {
  it("stamps x-amz-date with the current time in SigV4's basic format", async () => {
    const before = Date.now();
    const { headers } = await new AwsV4Signer({ ...SUITE, datetime: undefined, url: "https://example.amazonaws.com/" }).sign();
    const date = headers.get("x-amz-date")!;
    expect(date).toMatch(/^\d{8}T\d{6}Z$/);
    const at = Date.parse(date.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"));
    expect(Math.abs(at - before)).toBeLessThan(60_000);
  });

  it("encodes the path twice outside S3 and the query once, as RFC 3986 says", async () => {
    const canonical = await signer("/a b/c*~!'()?k=a b*").canonicalString();
    const [, path, query] = canonical.split("\n");
    expect(path).toBe("/a%2520b/c%2A~%21%27%28%29");
    expect(query).toBe("k=a%20b%2A");
  });
});
