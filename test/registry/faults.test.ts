/**
 * The client against a failing network: a fault-injecting proxy in front of a real registry
 * answers 503 and 429 (with Retry-After), drops and holds connections, refuses HEAD, alters
 * content and declines blob mounts. Behaviour is checked by what reached the proxy, not by time
 * (except that a Retry-After was waited for).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRegistryClient, registryCodes, type RegistryClient } from "@dockwright/registry";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { pushImage, type Pushed } from "../support/push-image.ts";
import { startRegistry, type Registry } from "../support/registry.ts";
import { lacks } from "../support/tools.ts";

describe.skipIf(lacks("registry"))("registry client: faults", () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let client: RegistryClient;
  let image: Pushed;
  let ref: string;
  const retries = 3;
  const seen = (method: string, path: RegExp) => proxy.seen.filter((s) => s.method === method && path.test(s.path));

  beforeAll(async () => {
    registry = await startRegistry();
    proxy = await startFaultProxy(registry.url);
    image = await pushImage({ url: registry.url, repository: "faulty" }, { config: { Env: ["A=1"] } }, "v1");
    ref = `${proxy.host}/faulty:v1`;
  });
  beforeEach(async () => {
    await client?.close();
    proxy.rule(() => undefined);
    proxy.seen.length = 0;
    client = createRegistryClient({ insecure: [proxy.host], env: {}, retries, retryBaseMs: 20, maxRetryDelayMs: 2000, timeoutMs: 400 });
  });
  afterAll(async () => {
    await client?.close();
    await proxy?.stop();
    await registry?.stop();
  });

  it("retries 503 with backoff until the registry answers", async () => {
    // Request 0 is the ping; the next three fail: as many as the client retries.
    proxy.rule(({ method }, n) => (method === "HEAD" && n <= retries ? { status: 503 } : undefined));
    expect((await client.resolve(ref, "linux/amd64")).digest).toBe(image.digest);
    expect(seen("HEAD", /manifests\/v1$/).map((s) => s.status)).toEqual([503, 503, 503, 200]);
  });

  it("gives up after the configured retries, naming the registry and the status", async () => {
    proxy.rule(({ path }) => (path.includes("/manifests/") ? { status: 503 } : undefined));
    const error = await client.resolve(ref).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: registryCodes.UNAVAILABLE, registry: proxy.host, reference: `${proxy.host}/faulty:v1` });
    expect((error as Error).message).toContain(`answers HTTP 503 (${retries + 1} attempts)`);
    expect(seen("HEAD", /manifests/)).toHaveLength(retries + 1);
  });

  it("waits as long as Retry-After asks on 429", async () => {
    proxy.rule(({ method }, n) => (method === "HEAD" && n < 2 ? { status: 429, headers: { "retry-after": "1" } } : undefined));
    const started = Date.now();
    expect(await client.exists(ref)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(seen("HEAD", /manifests/).map((s) => s.status)).toEqual([429, 200]);
  });

  it("fails at once when Retry-After is longer than it may wait", async () => {
    proxy.rule(({ method }) => (method === "HEAD" ? { status: 429, headers: { "retry-after": "3600" } } : undefined));
    const error = await client.exists(ref).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: registryCodes.UNAVAILABLE });
    expect((error as Error).message).toContain("is rate-limiting requests (1 attempt; it asks to retry after 3600 s)");
    expect(seen("HEAD", /manifests/)).toHaveLength(1);
  });

  it("retries dropped connections, and reports a registry that never answers", async () => {
    proxy.rule(({ method }, n) => (method === "HEAD" && n < 3 ? { drop: true } : undefined));
    expect(await client.exists(ref)).toBe(true);
    expect(seen("HEAD", /manifests/).map((s) => s.fault ?? "passed")).toEqual(["drop", "drop", "passed"]);

    proxy.rule(({ method }) => (method === "HEAD" ? { hang: true } : undefined));
    proxy.seen.length = 0;
    const error = await client.exists(ref).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: registryCodes.UNREACHABLE, registry: proxy.host });
    expect((error as Error).message).toContain(`no answer within 400 ms, ${retries + 1} attempts`);
    expect(seen("HEAD", /manifests/)).toHaveLength(retries + 1);
  });

  it("falls back to GET where HEAD is not supported", async () => {
    proxy.rule(({ method }) => (method === "HEAD" ? { status: 405 } : undefined));
    expect(await client.exists(ref)).toBe(true);
    expect(await client.exists(`${proxy.host}/faulty:v2`)).toBe(false);
    expect((await client.resolve(ref, "linux/amd64")).digest).toBe(image.digest);
    expect(seen("GET", /manifests/).length).toBe(3);
  });

  it("rejects a configuration or manifest whose digest does not match", async () => {
    const flip = (bytes: Buffer) => Buffer.from(bytes.toString("utf8").replace('"A=1"', '"A=2"'));
    proxy.rule(({ path }) => (path.includes("/blobs/") ? { body: flip } : undefined));
    const error = await client.imageConfig(ref, "linux/amd64").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: registryCodes.DIGEST_MISMATCH, registry: proxy.host });
    expect((error as Error).message).toContain(`the blob ${image.configDigest} from registry ${proxy.host} has digest sha256:`);

    // A manifest fetched by tag is checked against the registry's Docker-Content-Digest.
    proxy.rule(({ method, path }) => (method === "GET" && path.endsWith("/manifests/v1") ? { body: (b) => Buffer.from(b.toString().replace('"schemaVersion": 2', '"schemaVersion":2')) } : undefined));
    await expect(client.tag(ref, `${proxy.host}/faulty:v1-copy`)).rejects.toMatchObject({ code: registryCodes.DIGEST_MISMATCH });
    expect(await client.exists(`${proxy.host}/faulty:v1-copy`)).toBe(false);
  });

  it("copies blobs itself when the registry declines to mount them", async () => {
    // Without mount and from, Distribution starts a plain upload (202) instead of mounting (201).
    proxy.rule(({ method, path }) => (method === "POST" && path.includes("mount=") ? { path: path.slice(0, path.indexOf("?")) } : undefined));
    const copied = await client.tag(ref, `${proxy.host}/elsewhere:v1`);
    expect(copied.digest).toBe(image.digest);
    expect(seen("GET", /\/v2\/faulty\/blobs\//)).toHaveLength(2);
    expect(seen("PUT", /\/v2\/elsewhere\/blobs\/uploads\//)).toHaveLength(2);
    expect((await client.imageConfig(`${proxy.host}/elsewhere:v1`, "linux/amd64")).config.config?.Env).toEqual(["A=1"]);
  });

  it("sends nothing to a token service that is not HTTPS", async () => {
    proxy.rule(({ path }) => (path === "/v2/" ? { status: 401, headers: { "www-authenticate": 'Bearer realm="http://127.0.0.1:9/token",service="evil"' } } : undefined));
    const error = await client.exists(ref).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: registryCodes.INSECURE_REFUSED, registry: "127.0.0.1:9" });
    expect((error as Error).message).toContain(`the token service http://127.0.0.1:9 of registry ${proxy.host} is not HTTPS`);
  });

  it("scrubs the secrets it knows from what a registry echoes back", async () => {
    const password = "echoed-Pa55word";
    const basic = Buffer.from(`u:${password}`).toString("base64");
    const lines: string[] = [];
    const leaky = createRegistryClient({ insecure: [proxy.host], env: {}, retries: 0, log: (line) => lines.push(line), credentials: async () => ({ username: "u", password, source: "a test" }) });
    proxy.rule(({ path }) => path === "/v2/"
      ? { status: 401, headers: { "www-authenticate": 'Basic realm="test"' } }
      : { status: 400, body: JSON.stringify({ errors: [{ code: "DENIED", message: `password ${password} (Basic ${basic}) is weak` }] }) });
    const error = await leaky.exists(ref).catch((e: unknown) => e);
    await leaky.close();
    expect(error).toMatchObject({ code: registryCodes.BAD_RESPONSE, registry: proxy.host });
    expect((error as Error).message).toContain("GET manifest v1 answered HTTP 400: DENIED password *** (Basic ***) is weak");
    for (const text of [(error as Error).message, ...lines]) expect(text).not.toMatch(/echoed-Pa55word|dTplY2hvZWQtUGE1NXdvcmQ/);
  });
});
