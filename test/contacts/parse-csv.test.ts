import { describe, expect, it } from "vitest";
import { CsvSyntaxError, CsvTooManyRecords, parseCsv } from "../../src/lib/csv";

describe("parseCsv", () => {
  it("parses quoted fields with commas, doubled quotes and line breaks", () => {
    expect(parseCsv('a,b,c\n1,"x, y","say ""hi"""\n2,"multi\nline",\n')).toEqual([
      ["a", "b", "c"],
      ["1", "x, y", 'say "hi"'],
      ["2", "multi\nline", ""],
    ]);
  });

  it("accepts CRLF, LF and CR line endings, a BOM, and a missing final line break", () => {
    expect(parseCsv("\uFEFFa,b\r\n1,2\r\n")).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
    expect(parseCsv("a,b\r1,2")).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
    expect(parseCsv("a\n\n\nb\n")).toEqual([["a"], ["b"]]);
    expect(parseCsv("")).toEqual([]);
    expect(parseCsv("a,")).toEqual([["a", ""]]);
    expect(parseCsv(',\n""')).toEqual([["", ""]]);
  });

  it("keeps a stray quote inside an unquoted field as text", () => {
    expect(parseCsv('size\n5" screen\n')).toEqual([["size"], ['5" screen']]);
  });

  it("reports a quote left open and text after a closing quote, with the line", () => {
    expect(() => parseCsv('a\n"open\nstill open')).toThrow(CsvSyntaxError);
    expect(() => parseCsv('a\n"open\nstill open')).toThrow(/line 2/);
    expect(() => parseCsv('a,b\n"x"y,2')).toThrow(/text follows a closing quote.*line 2/);
    expect(() => parseCsv('a\n"multi\nline"\n"x"y')).toThrow(/line 4/);
  });

  it("stops once more records than allowed are read", () => {
    expect(parseCsv("a\nb\nc", { maxRecords: 3 })).toHaveLength(3);
    expect(() => parseCsv("a\nb\nc\nd", { maxRecords: 3 })).toThrow(CsvTooManyRecords);
  });
});
