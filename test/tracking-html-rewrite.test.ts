// rewriteHtml: click tracking of links and the open pixel, reading HTML the way a browser does, and
// staying linear on hostile input.
import { describe, expect, it } from "vitest";
import { decodeEntities, rewriteHtml, signToken, verifyToken } from "../src/tracking";
import { M, SECRET, T } from "./tracking-claims";

describe("rewriteHtml", () => {
  function tracker() {
    const calls: string[] = [];
    const clickUrl = async (target: string) => {
      calls.push(target);
      return `https://t.herald.test/c/${encodeURIComponent(target)}`;
    };
    return { calls, clickUrl };
  }
  const tracked = (target: string) => `https://t.herald.test/c/${encodeURIComponent(target)}`;

  it("rewrites absolute http(s) hrefs in any quoting and case", async () => {
    const { clickUrl } = tracker();
    const html = [
      `<a href="https://a.example/1">x</a>`,
      `<a href='http://a.example/2'>x</a>`,
      `<a href=https://a.example/3>x</a>`,
      `<A HREF="https://a.example/4">x</A>`,
      `<a class="btn" data-x='y' HREF = "https://a.example/5" title="t">x</a>`,
      `<a\nhref\n=\n"https://a.example/6"\n>x</a>`,
      `<a href="HTTPS://a.example/7"/>`,
    ].join("\n");
    const out = await rewriteHtml(html, { clickUrl });
    expect(out).toBe(
      [
        `<a href="${tracked("https://a.example/1")}">x</a>`,
        `<a href="${tracked("http://a.example/2")}">x</a>`,
        `<a href="${tracked("https://a.example/3")}">x</a>`,
        `<A HREF="${tracked("https://a.example/4")}">x</A>`,
        `<a class="btn" data-x='y' HREF = "${tracked("https://a.example/5")}" title="t">x</a>`,
        `<a\nhref\n=\n"${tracked("https://a.example/6")}"\n>x</a>`,
        `<a href="${tracked("HTTPS://a.example/7")}"/>`,
      ].join("\n"),
    );
  });

  it("decodes entities before tracking and escapes the new URL", async () => {
    const calls: string[] = [];
    const clickUrl = async (target: string) => {
      calls.push(target);
      return `https://t.example/c?u=1&x="<'>`;
    };
    const out = await rewriteHtml(`<a href="https://a.example/?a=1&amp;b=2&#38;c=3&#x26;d=4&copy=5&lt=6&quot;">x</a>`, { clickUrl });
    expect(calls).toEqual([`https://a.example/?a=1&b=2&c=3&d=4&copy=5&lt=6"`]);
    expect(out).toBe(`<a href="https://t.example/c?u=1&amp;x=&quot;&lt;&#39;&gt;">x</a>`);
  });

  it("decodes character references like a browser does in attributes", () => {
    expect(decodeEntities("a&amp;b&ampc&amp=d&amp")).toBe("a&b&ampc&amp=d&");
    expect(decodeEntities("&#104;&#x74;&#X74;&#112&colon;&sol;&sol;")).toBe("http://");
    expect(decodeEntities("&#0;&#xD800;&#x110000;&#99999999999999999999;&#128;")).toBe("\ufffd\ufffd\ufffd\ufffd€");
    expect(decodeEntities("&unknown;&constructor;&toString;&;&#;&#x;")).toBe("&unknown;&constructor;&toString;&;&#;&#x;");
  });

  it("treats entity-obfuscated and whitespace-padded targets the way the browser would", async () => {
    const { calls, clickUrl } = tracker();
    const out = await rewriteHtml(
      `<a href="&#104;ttps&colon;//a.example/x">1</a><a href="  https://a.example/y\n ">2</a><a href="https://a.exa\tmple/z">3</a><a href="javascript&colon;alert(1)">4</a>`,
      { clickUrl },
    );
    expect(calls).toEqual(["https://a.example/x", "https://a.example/y", "https://a.example/z"]);
    expect(out).toContain(`<a href="javascript&colon;alert(1)">4</a>`);
  });

  it("leaves mailto:, tel:, anchors, relative, javascript: and empty links alone", async () => {
    const { calls, clickUrl } = tracker();
    const html = [
      `<a href="mailto:a@b.example">m</a>`,
      `<a href="tel:+123">t</a>`,
      `<a href="#top">#</a>`,
      `<a href="/relative">r</a>`,
      `<a href="relative/x">r</a>`,
      `<a href="//cdn.example/x">p</a>`,
      `<a href="javascript:alert(1)">j</a>`,
      `<a href="">e</a>`,
      `<a href>e</a>`,
      `<a href=>e</a>`,
      `<a name="x">n</a>`,
      `<a data-href="https://a.example/">d</a>`,
      `<abbr href="https://a.example/">abbr</abbr>`,
      `<area href="https://a.example/">`,
      `<link rel="stylesheet" href="https://a.example/s.css">`,
      `<base href="https://a.example/">`,
      `<LINK HREF="https://a.example/s.css">`,
    ].join("\n");
    expect(await rewriteHtml(html, { clickUrl })).toBe(html);
    expect(calls).toEqual([]);
  });

  it("honours skip()", async () => {
    const { calls, clickUrl } = tracker();
    const html = `<a href="https://t.herald.test/u/abc">unsubscribe</a><a href="https://a.example/">x</a>`;
    const out = await rewriteHtml(html, { clickUrl, skip: (url) => url.startsWith("https://t.herald.test/u/") });
    expect(out).toBe(`<a href="https://t.herald.test/u/abc">unsubscribe</a><a href="${tracked("https://a.example/")}">x</a>`);
    expect(calls).toEqual(["https://a.example/"]);
  });

  it("keeps the first of duplicate href attributes", async () => {
    const { calls, clickUrl } = tracker();
    const out = await rewriteHtml(`<a href="https://a.example/1" href="https://a.example/2">x</a>`, { clickUrl });
    expect(out).toBe(`<a href="${tracked("https://a.example/1")}" href="https://a.example/2">x</a>`);
    expect(calls).toEqual(["https://a.example/1"]);
  });

  it("leaves comments, script/style/title contents and attribute text alone", async () => {
    const { calls, clickUrl } = tracker();
    const html = [
      `<!-- <a href="https://a.example/c1">x</a> -->`,
      `<!--[if mso]><a href="https://a.example/c2">x</a><![endif]-->`,
      `<!-- a -- b --!><a href="https://a.example/after-bang">ok</a>`,
      `<!--><a href="https://a.example/after-abrupt">ok</a>`,
      `<script>var s = '<a href="https://a.example/s">';</script>`,
      `<style>/* <a href="https://a.example/st"> */</style>`,
      `<title><a href="https://a.example/t"></title>`,
      `<img alt='<a href="https://a.example/alt">'>`,
      `<![if !mso]><a href="https://a.example/revealed">ok</a><![endif]>`,
    ].join("\n");
    const out = await rewriteHtml(html, { clickUrl });
    expect(calls).toEqual(["https://a.example/after-bang", "https://a.example/after-abrupt", "https://a.example/revealed"]);
    expect(out).toBe(
      html
        .replace(`"https://a.example/after-bang"`, `"${tracked("https://a.example/after-bang")}"`)
        .replace(`"https://a.example/after-abrupt"`, `"${tracked("https://a.example/after-abrupt")}"`)
        .replace(`"https://a.example/revealed"`, `"${tracked("https://a.example/revealed")}"`),
    );
  });

  it("leaves an unterminated comment or tag alone", async () => {
    const { calls, clickUrl } = tracker();
    for (const html of [
      `<p>hi</p><!-- <a href="https://a.example/">x</a>`,
      `<p>hi</p><a href="https://a.example/"`,
      `<a href="https://a.example/>x`,
    ]) {
      expect(await rewriteHtml(html, { clickUrl })).toBe(html);
    }
    expect(calls).toEqual([]);
  });

  it("calls clickUrl once per distinct target", async () => {
    const { calls, clickUrl } = tracker();
    const link = (u: string) => `<a href="${u}">x</a>`;
    const html = [
      link("https://a.example/1"),
      link("https://a.example/2"),
      link("https://a.example/1"),
      link("https://a.example/1&amp;"),
      link("https://a.example/1&"),
    ].join("");
    const out = await rewriteHtml(html, { clickUrl });
    expect(calls).toEqual(["https://a.example/1", "https://a.example/2", "https://a.example/1&"]);
    expect(out.match(/t\.herald\.test/g)).toHaveLength(5);
  });

  it("injects the open pixel before </body>, or at the end", async () => {
    const pixel = `<img src="https://t.herald.test/o/a&amp;b" width="1" height="1" alt="" style="display:none">`;
    const openPixelUrl = "https://t.herald.test/o/a&b";
    expect(await rewriteHtml(`<html><body><p>hi</p></body></html>`, { openPixelUrl })).toBe(`<html><body><p>hi</p>${pixel}</body></html>`);
    expect(await rewriteHtml(`<HTML><BODY>hi</BODY ></HTML>`, { openPixelUrl })).toBe(`<HTML><BODY>hi${pixel}</BODY ></HTML>`);
    expect(await rewriteHtml(`<p>hi</p>`, { openPixelUrl })).toBe(`<p>hi</p>${pixel}`);
    // A </body> in a comment or script is not the real one.
    expect(await rewriteHtml(`<!-- </body> --><script>"</body>"</script>hi`, { openPixelUrl })).toBe(
      `<!-- </body> --><script>"</body>"</script>hi${pixel}`,
    );
    expect(await rewriteHtml(`<p>hi</p>`, { openPixelUrl: "" })).toBe(`<p>hi</p>`);
    // Together with link rewriting, links on both sides of the pixel.
    const { clickUrl } = tracker();
    expect(
      await rewriteHtml(`<body><a href="https://a.example/">x</a></body><a href="https://b.example/">y</a>`, { clickUrl, openPixelUrl }),
    ).toBe(`<body><a href="${tracked("https://a.example/")}">x</a>${pixel}</body><a href="${tracked("https://b.example/")}">y</a>`);
  });

  it("returns the input unchanged when there is nothing to do", async () => {
    const html = `<a href="https://a.example/">x</a>`;
    expect(await rewriteHtml(html, {})).toBe(html);
    expect(await rewriteHtml("", { clickUrl: tracker().clickUrl })).toBe("");
  });

  it("propagates clickUrl errors", async () => {
    await expect(
      rewriteHtml(`<a href="https://a.example/">x</a>`, { clickUrl: async () => Promise.reject(new Error("boom")) }),
    ).rejects.toThrow("boom");
  });

  it("works with real signed click tokens", async () => {
    const clickUrl = async (u: string) => `https://t.herald.test/c/${await signToken(SECRET, { k: "c", t: T, m: M, u })}`;
    const out = await rewriteHtml(`<a href="https://a.example/?x=1&amp;y=2">x</a>`, { clickUrl });
    const token = /\/c\/([^"]+)"/.exec(out)![1]!;
    expect((await verifyToken(SECRET, token, "c"))?.u).toBe("https://a.example/?x=1&y=2");
  });

  it("stays fast on hostile input", async () => {
    const { clickUrl } = tracker();
    const MB = 1 << 20;
    const cases = [
      "<a ".repeat(MB / 3),
      "<a href=".repeat(MB / 8),
      '<a href="'.repeat(MB / 9),
      "<!--".repeat(MB / 4),
      "<!---->".repeat(MB / 7),
      "<!".repeat(MB / 2),
      "</".repeat(MB / 2),
      "<".repeat(MB),
      "<script>".repeat(MB / 8),
      "<a x".repeat(MB / 4),
      "<a x=y ".repeat(MB / 7),
      `<a href="${" ".repeat(MB)}x">`,
      `<a href="https://a.example/${"&".repeat(MB)}">`,
      `<a href="https://a.example/${"&#".repeat(MB / 2)}">`,
      `<a href="https://a.example/${"&#x0".repeat(MB / 4)}">`,
      `<a href="${"&a".repeat(MB / 2)}">`,
      `<a href="https://a.example/${"a".repeat(MB)}">`,
      `<a href="https://a.example/x">y</a>`.repeat(MB / 34),
    ];
    for (const html of cases) {
      const started = performance.now();
      const out = await rewriteHtml(html, { clickUrl, openPixelUrl: "https://t.herald.test/o/x" });
      const elapsed = performance.now() - started;
      expect(out.length).toBeGreaterThanOrEqual(html.length);
      expect(elapsed, `${html.slice(0, 20)}… took ${elapsed} ms`).toBeLessThan(1000);
    }
    // Many distinct links: one clickUrl call each, still linear.
    const many = Array.from({ length: 20_000 }, (_, i) => `<a href="https://a.example/${i}">${i}</a>`).join("");
    const counted = tracker();
    const started = performance.now();
    await rewriteHtml(many, { clickUrl: counted.clickUrl });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(counted.calls).toHaveLength(20_000);
  });
});
