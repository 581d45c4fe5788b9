import { describe, expect, it } from "vitest";
import { compileTemplate, TemplateSyntaxError, unknownVariables, type MergeContext } from "../src/templates/engine";

const ctx = (over: Partial<MergeContext> = {}): MergeContext => ({
  email: "ada@example.com",
  name: "Ada",
  attributes: {},
  campaign: {},
  ...over,
});

function html(source: string, context = ctx()): string {
  return compileTemplate({ subject: "s", html: source, text: null }).render(context).html!;
}

function subject(source: string, context = ctx()): string {
  return compileTemplate({ subject: source, html: null, text: null }).render(context).subject;
}

function text(source: string, context = ctx()): string {
  return compileTemplate({ subject: "s", html: null, text: source }).render(context).text!;
}

function syntaxError(part: "subject" | "html" | "text", source: string): TemplateSyntaxError {
  const src = { subject: "s", html: null as string | null, text: null as string | null, [part]: source };
  try {
    compileTemplate(src);
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateSyntaxError);
    return err as TemplateSyntaxError;
  }
  throw new Error(`expected a syntax error for ${JSON.stringify(source)}`);
}

describe("template engine: inserting values", () => {
  it("fills email, name, attributes and campaign data, with or without spaces in the tag", () => {
    const out = html(
      "{{email}} {{ name }} {{  attributes.plan  }} {{campaign.promo}}",
      ctx({ attributes: { plan: "pro" }, campaign: { promo: "SAVE10" } }),
    );
    expect(out).toBe("ada@example.com Ada pro SAVE10");
  });

  it("HTML-escapes values in the html part: a <script> stays text", () => {
    const out = html("<p>{{ name }}</p>", ctx({ name: `<script>alert("x")</script>` }));
    expect(out).toBe("<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>");
    expect(out).not.toContain("<script>");
  });

  it("escapes & and both quote kinds, so a value cannot break out of an attribute", () => {
    const out = html(`<a title="{{ attributes.t }}" alt='{{ attributes.t }}'>`, ctx({ attributes: { t: `a&b "c" 'd'` } }));
    expect(out).toBe(`<a title="a&amp;b &quot;c&quot; &#39;d&#39;" alt='a&amp;b &quot;c&quot; &#39;d&#39;'>`);
  });

  it("inserts {{{ raw }}} values unescaped", () => {
    const out = html("{{{ attributes.snippet }}}|{{ attributes.snippet }}", ctx({ attributes: { snippet: "<b>bold</b>" } }));
    expect(out).toBe("<b>bold</b>|&lt;b&gt;bold&lt;/b&gt;");
  });

  it("never escapes the text part or the subject", () => {
    const c = ctx({ name: `<Tom & "Jerry">` });
    expect(text("Hi {{ name }}", c)).toBe(`Hi <Tom & "Jerry">`);
    expect(subject("Hi {{ name }}", c)).toBe(`Hi <Tom & "Jerry">`);
  });

  it("replaces CR and LF in subject values with spaces, so no header can be injected", () => {
    const out = subject("Hi {{ name }}!", ctx({ name: "Eve\r\nBcc: victim@example.com\nX" }));
    expect(out).toBe("Hi Eve  Bcc: victim@example.com X!");
    expect(out).not.toMatch(/[\r\n]/);
    expect(subject(`{{ attributes.x | "a\nb" }}`)).toBe("a b");
    // The text part keeps line breaks.
    expect(text("{{ name }}", ctx({ name: "a\nb" }))).toBe("a\nb");
  });

  it("reads nested attributes and campaign keys, and keys that themselves contain dots", () => {
    const c = ctx({
      attributes: { address: { city: "Paris", geo: { lat: 48.8 } }, "company.name": "Acme", tags: ["a", "b"] },
      campaign: { offer: { code: "X1" } },
    });
    expect(
      html(
        "{{attributes.address.city}} {{attributes.address.geo.lat}} {{attributes.company.name}} {{attributes.tags.1}} {{campaign.offer.code}}",
        c,
      ),
    ).toBe("Paris 48.8 Acme b X1");
  });

  it("stringifies numbers, booleans and objects (objects as JSON, escaped in html)", () => {
    const c = ctx({ attributes: { n: 42, f: 1.5, yes: true, no: false, zero: 0, obj: { a: "<x>" }, list: [1, 2] } });
    expect(text("{{attributes.n}} {{attributes.f}} {{attributes.yes}} {{attributes.no}} {{attributes.zero}}", c)).toBe(
      "42 1.5 true false 0",
    );
    expect(text("{{attributes.obj}} {{attributes.list}}", c)).toBe(`{"a":"<x>"} [1,2]`);
    expect(html("{{attributes.obj}}", c)).toBe("{&quot;a&quot;:&quot;&lt;x&gt;&quot;}");
  });

  it("renders missing values as empty, and uses a default when the value is missing, null or empty", () => {
    const c = ctx({ name: null, attributes: { empty: "", nil: null, zero: 0, no: false } });
    expect(text("[{{ attributes.missing }}][{{ name }}][{{ campaign.x.y.z }}]", c)).toBe("[][][]");
    expect(text(`{{ name | "friend" }}`, c)).toBe("friend");
    expect(text(`{{ attributes.empty | "e" }} {{ attributes.nil | 'n' }} {{ attributes.missing|"m" }}`, c)).toBe("e n m");
    // 0 and false are values, not gaps.
    expect(text(`{{ attributes.zero | "d" }} {{ attributes.no | "d" }}`, c)).toBe("0 false");
    expect(text(`{{ name | "friend" }}`)).toBe("Ada");
  });

  it("escapes defaults in the html part unless the raw form is used, and allows escaped quotes and braces in them", () => {
    const c = ctx({ name: null });
    expect(html(`{{ name | "<you>" }}`, c)).toBe("&lt;you&gt;");
    expect(html(`{{{ name | "<b>you</b>" }}}`, c)).toBe("<b>you</b>");
    expect(text(`{{ name | "say \\"hi\\" }}" }}`, c)).toBe(`say "hi" }}`);
  });

  it("reads unsubscribe_url and view_in_browser_url from the reserved extras only", () => {
    const c = ctx({ extra: { unsubscribe_url: "https://x.test/u?a=1&b=2", view_in_browser_url: "https://x.test/v" } });
    expect(html(`<a href="{{ unsubscribe_url }}">u</a> {{{ view_in_browser_url }}}`, c)).toBe(
      `<a href="https://x.test/u?a=1&amp;b=2">u</a> https://x.test/v`,
    );
    expect(text("[{{ unsubscribe_url }}]", ctx())).toBe("[]");
  });

  it("never reaches prototype properties through a path", () => {
    const out = text(
      "[{{attributes.constructor}}][{{attributes.__proto__}}][{{attributes.toString}}][{{campaign.hasOwnProperty}}][{{attributes.a.constructor.name}}]",
      ctx({ attributes: { a: {} } }),
    );
    expect(out).toBe("[][][][][]");
  });

  it("renders subject, html and text together, and keeps a missing part null", () => {
    const t = compileTemplate({ subject: "Hi {{name}}", html: "<p>{{name}}</p>", text: null });
    expect(t.render(ctx())).toEqual({ subject: "Hi Ada", html: "<p>Ada</p>", text: null });
    const plain = compileTemplate({ subject: "s", html: null, text: "t {{ email }}" });
    expect(plain.render(ctx())).toEqual({ subject: "s", html: null, text: "t ada@example.com" });
  });

  it("keeps literal text that merely looks like braces", () => {
    expect(text("a } b }} c { d")).toBe("a } b }} c { d");
    expect(html("<style>p{color:red}</style>")).toBe("<style>p{color:red}</style>");
  });

  it("renders the same compiled template for many recipients without leaking state between them", () => {
    const t = compileTemplate({ subject: '{{ name | "friend" }}', html: "{{ attributes.n }}", text: null });
    const results = Array.from({ length: 50 }, (_, i) => t.render(ctx({ name: i % 2 ? `n${i}` : null, attributes: { n: i } })));
    expect(results[0]).toEqual({ subject: "friend", html: "0", text: null });
    expect(results[49]).toEqual({ subject: "n49", html: "49", text: null });
  });

  it("renders a typical 2 KB template in well under 10 µs", async () => {
    const paragraph = "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.</p>\n";
    const source = `<h1>Hello {{ name | "friend" }}</h1>${paragraph.repeat(9)}<p>{{ attributes.plan }} in {{ attributes.address.city }}</p>${paragraph.repeat(9)}<a href="{{ unsubscribe_url }}">Unsubscribe</a>`;
    expect(source.length).toBeGreaterThan(2000);
    const t = compileTemplate({
      subject: "Hi {{ name }}, {{ campaign.promo }}",
      html: source,
      text: "Hi {{ name }}\n{{ unsubscribe_url }}",
    });
    const c = ctx({
      attributes: { plan: "pro", address: { city: "Paris" } },
      campaign: { promo: "X" },
      extra: { unsubscribe_url: "https://x.test/u" },
    });
    const n = 20_000;
    // workerd's clock only moves across I/O, so the timed loop is bracketed by awaits.
    await new Promise((r) => setTimeout(r, 1));
    const started = performance.now();
    let size = 0;
    for (let i = 0; i < n; i++) size += t.render(c).html!.length;
    await new Promise((r) => setTimeout(r, 1));
    const perRender = ((performance.now() - started - 1) * 1000) / n;
    expect(size).toBeGreaterThan(0);
    // Generous for shared CI machines; it measures about 1 µs.
    expect(perRender).toBeLessThan(10);
  });
});

describe("template engine: syntax errors", () => {
  it("reports an unclosed tag with its part and position", () => {
    const err = syntaxError("html", "<p>\n  Hello {{ name </p>");
    expect(err.part).toBe("html");
    expect(err.message).toMatch(/line 2, column 9/);
    expect(syntaxError("subject", "Hi {{ name").message).toMatch(/unclosed/);
    expect(syntaxError("text", "Hi {{ name }").message).toMatch(/unclosed/);
    expect(syntaxError("html", "{{{ name }}").message).toMatch(/unclosed.*\}\}\}/);
  });

  it("rejects empty names and empty path segments", () => {
    expect(syntaxError("text", "{{ }}").message).toMatch(/empty variable name/);
    expect(syntaxError("text", "{{}}").message).toMatch(/empty variable name/);
    expect(syntaxError("text", `{{ | "x" }}`).message).toMatch(/empty variable name/);
    expect(syntaxError("text", "{{ attributes..plan }}").message).toMatch(/empty segment/);
    expect(syntaxError("text", "{{ attributes. }}").message).toMatch(/empty segment/);
    expect(syntaxError("text", "{{ .name }}").message).toMatch(/empty segment/);
  });

  it("rejects characters that cannot be in a variable name", () => {
    for (const bad of ["{{ first name }}", "{{ <script> }}", "{{ name! }}", "{{ a {{ b }}", "{{ attributes.plan() }}"]) {
      expect(syntaxError("html", bad).message).toMatch(/unexpected/);
    }
  });

  it("rejects a default that is not quoted or never ends", () => {
    expect(syntaxError("text", "{{ name | friend }}").message).toMatch(/quoted default/);
    expect(syntaxError("text", `{{ name | "friend }}`).message).toMatch(/unterminated default/);
  });

  it("names the failing part", () => {
    expect(syntaxError("subject", "{{").part).toBe("subject");
    expect(syntaxError("text", "{{").part).toBe("text");
  });
});

describe("template engine: variables", () => {
  it("lists the distinct paths used, in order of first use across subject, html and text", () => {
    const t = compileTemplate({
      subject: "{{ name }} {{campaign.promo}}",
      html: '{{ name }} {{{ attributes.plan }}} {{ attributes.plan | "free" }}',
      text: "{{ email }} {{ unsubscribe_url }}",
    });
    expect(t.variables).toEqual(["name", "campaign.promo", "attributes.plan", "email", "unsubscribe_url"]);
    expect(compileTemplate({ subject: "plain", html: "<p>no tags</p>", text: null }).variables).toEqual([]);
  });

  it("unknownVariables flags paths no merge context can fill", () => {
    expect(
      unknownVariables([
        "email",
        "name",
        "attributes.plan",
        "attributes.a.b",
        "campaign.promo",
        "unsubscribe_url",
        "view_in_browser_url",
        "attributes",
        "campaign",
        "nmae",
        "contact.email",
        "email.domain",
        "unsubscribe_url.x",
        "extra.unsubscribe_url",
      ]),
    ).toEqual(["attributes", "campaign", "nmae", "contact.email", "email.domain", "unsubscribe_url.x", "extra.unsubscribe_url"]);
    expect(unknownVariables([])).toEqual([]);
  });

  it("renders unknown variables as their default or empty", () => {
    const c = ctx({ attributes: { plan: "pro" } });
    expect(text(`[{{ attributes }}][{{ nmae | "x" }}][{{ email.domain }}]`, c)).toBe("[][x][]");
  });
});
