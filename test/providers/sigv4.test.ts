import { describe, expect, it } from "vitest";
import { amzDate, sigV4Authorization, uriEncode } from "../../src/providers/sigv4";

// The AWS Signature Version 4 test suite's credentials and clock.
const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

function sign(url: string) {
  return sigV4Authorization({
    method: "GET",
    url: new URL(url),
    headers: { "X-Amz-Date": "20150830T123600Z" },
    payloadHash: EMPTY_SHA256,
    region: "us-east-1",
    service: "service",
    credentials,
  });
}

describe("sigV4Authorization", () => {
  it("matches the AWS test suite's get-vanilla vector", async () => {
    expect(await sign("https://example.amazonaws.com/")).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    );
  });

  it("sorts the query string as the suite's get-vanilla-query-order-key-case vector expects", async () => {
    expect(await sign("https://example.amazonaws.com/?Param2=value2&Param1=value1")).toMatch(
      /Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500$/,
    );
  });

  it("formats x-amz-date and encodes as RFC 3986 says", () => {
    expect(amzDate(new Date("2015-08-30T12:36:00.123Z"))).toBe("20150830T123600Z");
    expect(uriEncode("a b/c*~!'()")).toBe("a%20b%2Fc%2A~%21%27%28%29");
  });
});
