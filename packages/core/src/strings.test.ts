import { describe, expect, test } from "vitest";
import { cleanPath, compareCodePoints } from "./strings.js";

describe("cleanPath (Go's path.Clean)", () => {
  test.each([
    ["", "."],
    ["/", "/"],
    [".", "."],
    ["./a", "a"],
    ["a/", "a"],
    ["a/./b/", "a/b"],
    ["a//b/../c", "a/c"],
    ["/a/../../b", "/b"],
    ["/..", "/"],
    ["a/../..", ".."],
    ["../../a/..", "../.."],
    ["//app//x/", "/app/x"],
  ])("cleanPath(%j) = %j", (p, clean) => {
    expect(cleanPath(p)).toBe(clean);
  });
});

describe("compareCodePoints: the order of the UTF-8 bytes", () => {
  const bytes = (s: string) => Buffer.from(s, "utf8");
  const words = ["", "a", "a\u0000", "ab", "B", "\u00e9", "\uE000", "\uFFFD", "\u{1F600}", "\u{10000}", "z\u{1F600}", "z\uFFFF"];

  test("sorts as Buffer.compare of the encodings, where JavaScript's < puts U+10000 before U+E000", () => {
    const sorted = [...words].sort(compareCodePoints);
    expect(sorted).toEqual([...words].sort((a, b) => Buffer.compare(bytes(a), bytes(b))));
    expect(sorted.indexOf("\uE000")).toBeLessThan(sorted.indexOf("\u{10000}"));
    expect("\u{10000}" < "\uE000").toBe(true);
  });

  test("sorts lone surrogates as the code points they are, as Python does", () => {
    // Python's order: the code points, one by one.
    const python = (a: string, b: string) => {
      const x = Array.from(a, (c) => c.codePointAt(0)!);
      const y = Array.from(b, (c) => c.codePointAt(0)!);
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    };
    const units = ["a", "\ud7ff", "\ud800", "\udbff", "\udc00", "\udfff", "\ue000", "\uffff"];
    const strings = units.flatMap((x) => units.flatMap((y) => [x + y, `${x}${y}z`, x]));
    for (const a of strings) for (const b of strings) expect(Math.sign(compareCodePoints(a, b)), `${JSON.stringify(a)} ${JSON.stringify(b)}`).toBe(Math.sign(python(a, b)));
  });
});
