import { describe, expect, test } from "vitest";
import { goJsonStrings, literalPattern, normalizeImageRef, normalizePath } from "./normalize.js";

describe("normalizeImageRef (Docker's ParseNormalizedNamed + TagNameOnly)", () => {
  test.each([
    ["python:3.11", "docker.io/library/python:3.11"],
    ["python", "docker.io/library/python:latest"],
    ["org/x", "docker.io/org/x:latest"],
    ["library/python:3.11-slim", "docker.io/library/python:3.11-slim"],
    ["docker.io/python", "docker.io/library/python:latest"],
    ["index.docker.io/org/x:1", "docker.io/org/x:1"],
    ["ghcr.io/org/img:1.2", "ghcr.io/org/img:1.2"],
    ["localhost/img", "localhost/img:latest"],
    ["localhost:5000/team/img", "localhost:5000/team/img:latest"],
    ["registry.example.com:5000/img:tag", "registry.example.com:5000/img:tag"],
    ["Registry/img", "Registry/img:latest"],
    [`python@sha256:${"a".repeat(64)}`, `docker.io/library/python@sha256:${"a".repeat(64)}`],
    [`python:3.11@sha256:${"b".repeat(64)}`, `docker.io/library/python:3.11@sha256:${"b".repeat(64)}`],
    [`ghcr.io/org/img@sha256:${"c".repeat(64)}`, `ghcr.io/org/img@sha256:${"c".repeat(64)}`],
  ])("%s -> %s", (ref, normalized) => {
    expect(normalizeImageRef(ref)).toBe(normalized);
  });
});

describe("paths as BuildKit's client stores them", () => {
  test("relative paths are taken from the working directory; a trailing slash is kept on request", () => {
    expect(normalizePath("/app", "x/y")).toBe("/app/x/y");
    expect(normalizePath("/app", "/etc/")).toBe("/etc");
    expect(normalizePath("/app", "./", true)).toBe("/app/");
    expect(normalizePath("/", "./", true)).toBe("/");
    expect(normalizePath("/app", "sub/.", true)).toBe("/app/sub/.");
  });
});

describe("patterns", () => {
  test("literal patterns escape the matcher's syntax", () => {
    expect(literalPattern("a*b?[c]\\d.txt")).toBe("a\\*b\\?\\[c]\\\\d.txt");
  });

  test("the attribute is Go's JSON, HTML characters escaped", () => {
    expect(goJsonStrings(["*.log", "a&b<c>", 'q"\\', "\u2028"])).toBe('["*.log","a\\u0026b\\u003cc\\u003e","q\\"\\\\","\\u2028"]');
    expect(JSON.parse(goJsonStrings(["a&b<c>"]))).toEqual(["a&b<c>"]);
  });
});
