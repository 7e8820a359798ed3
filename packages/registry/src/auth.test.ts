import { describe, expect, it } from "vitest";
import { parseChallenges } from "./auth.js";

describe("parseChallenges", () => {
  it("reads Docker Hub's bearer challenge", () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/python:pull"')).toEqual([
      { scheme: "bearer", realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/python:pull" },
    ]);
  });

  it("reads insufficient_scope errors, several scopes and escaped quotes", () => {
    expect(parseChallenges('Bearer realm="https://t/token",service="s",scope="repository:a:pull repository:b:pull,push",error="insufficient_scope"')).toEqual([
      { scheme: "bearer", realm: "https://t/token", service: "s", scope: "repository:a:pull repository:b:pull,push", error: "insufficient_scope" },
    ]);
    expect(parseChallenges('bearer realm="https://t/a\\"b"')).toEqual([{ scheme: "bearer", realm: 'https://t/a"b' }]);
  });

  it("reads several challenges in one header, as fetch joins them, and drops what it cannot use", () => {
    expect(parseChallenges('Basic realm="Registry Realm", Bearer realm="https://t/token", service=reg')).toEqual([
      { scheme: "basic" },
      { scheme: "bearer", realm: "https://t/token", service: "reg" },
    ]);
    expect(parseChallenges('Negotiate, Bearer service="no-realm"')).toEqual([]);
    expect(parseChallenges("")).toEqual([]);
    expect(parseChallenges('Basic realm="unterminated')).toEqual([{ scheme: "basic" }]);
  });
});
