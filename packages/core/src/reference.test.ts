import { describe, expect, it } from "vitest";
import { formatImageRef, parseImageRef } from "./reference.js";

const hex = "a".repeat(64);

// What `docker pull` (distribution/reference ParseNormalizedNamed) makes of each reference.
const valid: [string, string][] = [
  ["python", "docker.io/library/python"],
  ["python:3.11-slim", "docker.io/library/python:3.11-slim"],
  ["zenmldocker/zenml:0.58", "docker.io/zenmldocker/zenml:0.58"],
  ["docker.io/python", "docker.io/library/python"],
  ["index.docker.io/library/python:3", "docker.io/library/python:3"],
  ["docker.io/a/b/c", "docker.io/a/b/c"],
  ["localhost/app", "localhost/app"],
  ["localhost:5000/team/app:v1", "localhost:5000/team/app:v1"],
  ["127.0.0.1:5000/app", "127.0.0.1:5000/app"],
  ["[::1]:5000/x:latest", "[::1]:5000/x:latest"],
  ["[fe80::1]/x", "[fe80::1]/x"],
  ["ghcr.io/org/team/image:v1.2_rc-3", "ghcr.io/org/team/image:v1.2_rc-3"],
  ["Registry.Example.com/app", "Registry.Example.com/app"],
  // An upper-case first part can only be a host.
  ["Myhost/app", "Myhost/app"],
  ["a__b/c-d--e.f_g", "docker.io/a__b/c-d--e.f_g"],
  [`python@sha256:${hex}`, `docker.io/library/python@sha256:${hex}`],
  [`python:3.12@sha256:${hex}`, `docker.io/library/python:3.12@sha256:${hex}`],
  [`r.io/x@sha512:${"0".repeat(128)}`, `r.io/x@sha512:${"0".repeat(128)}`],
  [`app:${"t".repeat(128)}`, `docker.io/library/app:${"t".repeat(128)}`],
];

const invalid: [string, RegExp][] = [
  ["", /does not follow/],
  ["Python:3.11", /lower case/],
  ["docker.io/Library/python", /lower case/],
  ["python:3.11 AS x", /does not follow/],
  ["python:", /does not follow/],
  ["-python", /does not follow/],
  ["a/b/", /does not follow/],
  ["a//b", /does not follow/],
  ["a___b", /does not follow/],
  ["host:port/app", /does not follow/],
  [`app:${"t".repeat(129)}`, /does not follow/],
  [`app:-tag`, /does not follow/],
  [hex, /image ID/],
  [`python@sha256:${"A".repeat(64)}`, /not a digest/],
  [`python@sha256:${"a".repeat(63)}`, /not a digest/],
  [`python@md5:${"a".repeat(32)}`, /not a digest/],
  [`r.io/${"a".repeat(251)}`, /longer than 255/],
  // docker.io/library/ counts towards the 255 characters.
  ["a".repeat(238), /longer than 255/],
  ["a".repeat(10_000), /characters long/],
];

describe("parseImageRef", () => {
  it.each(valid)("%s is %s", (text, canonical) => {
    const parsed = parseImageRef(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(formatImageRef(parsed.ref)).toBe(canonical);
    // The canonical form reads back as itself.
    const again = parseImageRef(canonical);
    expect(again.ok && formatImageRef(again.ref)).toBe(canonical);
  });

  it.each(invalid)("rejects %s", (text, problem) => {
    const parsed = parseImageRef(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });

  it("splits registry, repository, tag and digest", () => {
    expect(parseImageRef(`localhost:5000/team/app:v1@sha256:${hex}`)).toEqual({
      ok: true,
      ref: { registry: "localhost:5000", repository: "team/app", tag: "v1", digest: `sha256:${hex}` },
    });
    expect(parseImageRef("ubuntu")).toEqual({ ok: true, ref: { registry: "docker.io", repository: "library/ubuntu" } });
  });
});
