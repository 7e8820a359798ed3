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
});
