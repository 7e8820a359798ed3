/**
 * The registry client against a real Distribution registry (plain HTTP, marked insecure):
 * resolving tags and multi-platform indexes, image configurations, existence, re-tags and copies.
 */
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistryClient, registryCodes, type RegistryClient } from "@dockwright/registry";
import { pushImage, pushIndex, type PushTarget } from "../support/push-image.ts";
import { startRegistry, type Registry } from "../support/registry.ts";
import { lacks } from "../support/tools.ts";

const ipv6 = await loopbackIPv6();

describe.skipIf(lacks("registry"))("registry client: content", () => {
  let registry: Registry;
  let other: Registry;
  let client: RegistryClient;
  const at = (repository: string): PushTarget => ({ url: registry.url, repository });

  beforeAll(async () => {
    [registry, other] = await Promise.all([startRegistry(), startRegistry()]);
    client = createRegistryClient({ insecure: [registry.host, other.host], env: {} });
  });
  afterAll(async () => {
    await client?.close();
    await Promise.all([registry?.stop(), other?.stop()]);
  });

  it("resolves a tag to the digest of its manifest", async () => {
    const pushed = await pushImage(at("team/app"), {}, "v1");
    const resolved = await client.resolve(`${registry.host}/team/app:v1`, "linux/amd64");
    expect(resolved).toEqual({
      reference: `${registry.host}/team/app:v1@${pushed.digest}`,
      digest: pushed.digest,
      manifestDigest: pushed.digest,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
    });
    // By digest, too; and the default tag is latest.
    expect((await client.resolve(`${registry.host}/team/app@${pushed.digest}`)).digest).toBe(pushed.digest);
    await pushImage(at("team/app"), { files: { "l.txt": "latest" } }, "latest");
    expect((await client.resolve(`${registry.host}/team/app`)).digest).not.toBe(pushed.digest);
  });

  it("follows an OCI index and a Docker manifest list to the platform's manifest", async () => {
    const platforms = [
      { os: "linux", architecture: "amd64" },
      { os: "linux", architecture: "arm64", variant: "v8" },
      { os: "linux", architecture: "arm", variant: "v6" },
      { os: "unknown", architecture: "unknown" },
    ];
    for (const docker of [false, true]) {
      const tag = docker ? "list" : "index";
      const index = await pushIndex(at("multi"), platforms.map((platform) => ({ platform, files: { "arch.txt": platform.architecture } })), tag, { docker });
      const ref = `${registry.host}/multi:${tag}`;
      const amd64 = await client.resolve(ref, "linux/amd64");
      expect(amd64.digest).toBe(index.digest);
      expect(amd64.manifestDigest).toBe(index.images[0]!.digest);
      expect(amd64.reference).toBe(`${ref}@${index.images[0]!.digest}`);
      expect(amd64.platform).toEqual(platforms[0]);
      // arm64 means arm64/v8; aarch64 is its alias.
      expect((await client.resolve(ref, "linux/arm64")).manifestDigest).toBe(index.images[1]!.digest);
      expect((await client.resolve(ref, { os: "linux", architecture: "aarch64" })).manifestDigest).toBe(index.images[1]!.digest);
      // An arm/v7 machine runs the v6 image when there is no v7 one.
      expect((await client.resolve(ref, "linux/arm/v7")).manifestDigest).toBe(index.images[2]!.digest);
      const missing = await client.resolve(ref, "linux/s390x").catch((e: unknown) => e);
      expect(missing).toMatchObject({ code: registryCodes.NO_MATCHING_PLATFORM, registry: registry.host });
      expect((missing as Error).message).toContain("has no image for linux/s390x; it has linux/amd64, linux/arm64/v8, linux/arm/v6");
      expect(((await client.imageConfig(ref, "linux/arm64")).config.architecture)).toBe("arm64");
    }
  });

  it("reads the image configuration, verified against its digest", async () => {
    const config = {
      Env: ["PATH=/opt/conda/bin:/usr/bin:/bin", "LANG=C.UTF-8"],
      User: "zenml",
      WorkingDir: "/srv",
      Cmd: ["python", "-m", "app"],
      Entrypoint: ["/entry.sh"],
      Labels: { "org.opencontainers.image.source": "https://example.com/app" },
      ExposedPorts: { "8080/tcp": {} },
    };
    const pushed = await pushImage(at("configured"), { config, docker: true }, "1.0");
    const result = await client.imageConfig(`${registry.host}/configured:1.0`, "linux/amd64");
    expect(result.configDigest).toBe(pushed.configDigest);
    expect(result.manifestDigest).toBe(pushed.digest);
    expect(result.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(result.config.config).toEqual(config);
    expect(result.config.os).toBe("linux");
    expect(result.config.rootfs.diff_ids).toHaveLength(1);
  });

  it("tells whether a tag or digest exists", async () => {
    const pushed = await pushImage(at("present"), {}, "yes");
    expect(await client.exists(`${registry.host}/present:yes`)).toBe(true);
    expect(await client.exists(`${registry.host}/present@${pushed.digest}`)).toBe(true);
    expect(await client.exists(`${registry.host}/present:no`)).toBe(false);
    expect(await client.exists(`${registry.host}/absent/repository:yes`)).toBe(false);
    expect(await client.exists(`${registry.host}/present@sha256:${"0".repeat(64)}`)).toBe(false);
    const error = await client.resolve(`${registry.host}/present:no`).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: registryCodes.NOT_FOUND, registry: registry.host, reference: `${registry.host}/present:no` });
  });

  it("re-tags within a repository, keeping the digest", async () => {
    const pushed = await pushImage(at("retag"), {}, "parent");
    const tagged = await client.tag(`${registry.host}/retag:parent`, `${registry.host}/retag:pipeline-orchestrator`);
    expect(tagged).toEqual({ reference: `${registry.host}/retag:pipeline-orchestrator@${pushed.digest}`, digest: pushed.digest });
    expect((await client.resolve(`${registry.host}/retag:pipeline-orchestrator`)).digest).toBe(pushed.digest);
  });

  it("copies an image and an index into another repository of the registry", async () => {
    const image = await pushImage(at("source/app"), { config: { User: "1000" } }, "v2");
    const copied = await client.tag(`${registry.host}/source/app:v2`, `${registry.host}/dest/app:v2`);
    expect(copied.digest).toBe(image.digest);
    expect((await client.imageConfig(`${registry.host}/dest/app:v2`, "linux/amd64")).config.config?.User).toBe("1000");

    const index = await pushIndex(at("source/multi"), [
      { platform: { os: "linux", architecture: "amd64" } },
      { platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    ], "v1");
    const list = await client.tag(`${registry.host}/source/multi:v1`, `${registry.host}/dest/multi:v1`);
    expect(list.digest).toBe(index.digest);
    for (const [i, platform] of ["linux/amd64", "linux/arm64"].entries()) {
      const config = await client.imageConfig(`${registry.host}/dest/multi:v1`, platform);
      expect(config.manifestDigest).toBe(index.images[i]!.digest);
      expect(config.configDigest).toBe(index.images[i]!.configDigest);
    }
  });

  it("copies between registries by streaming the blobs", async () => {
    const image = await pushImage(at("far"), { config: { Env: ["A=1"] } }, "v1");
    const copied = await client.tag(`${registry.host}/far:v1`, `${other.host}/near:v1`);
    expect(copied).toEqual({ reference: `${other.host}/near:v1@${image.digest}`, digest: image.digest });
    expect((await client.imageConfig(`${other.host}/near:v1`, "linux/amd64")).config.config?.Env).toEqual(["A=1"]);
  });

  it("refuses a destination without a tag, and a digest that is not the source's", async () => {
    const pushed = await pushImage(at("strict"), {}, "v1");
    await expect(client.tag(`${registry.host}/strict:v1`, `${registry.host}/strict`)).rejects.toMatchObject({ code: registryCodes.INVALID_REFERENCE });
    await expect(client.tag(`${registry.host}/strict:v1`, `${registry.host}/strict@sha256:${"1".repeat(64)}`)).rejects.toThrow(`is not the source's, ${pushed.digest}`);
    await expect(client.resolve("Not/A Reference")).rejects.toMatchObject({ code: registryCodes.INVALID_REFERENCE });
  });

  it("uses plain HTTP only for hosts marked insecure, by option or environment", async () => {
    await pushImage(at("plain"), {}, "v1");
    const strict = createRegistryClient({ env: {} });
    try {
      const error = await strict.resolve(`${registry.host}/plain:v1`).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: registryCodes.INSECURE_REFUSED, registry: registry.host });
      expect((error as Error).message).toContain(`DOCKWRIGHT_INSECURE_REGISTRIES=${registry.host}`);
    } finally {
      await strict.close();
    }
    const fromEnv = createRegistryClient({ env: { DOCKWRIGHT_INSECURE_REGISTRIES: `example.com:5000, ${registry.host}` } });
    try {
      expect(await fromEnv.exists(`${registry.host}/plain:v1`)).toBe(true);
    } finally {
      await fromEnv.close();
    }
  });

  it.skipIf(!ipv6)("talks to a registry at an IPv6 address", async () => {
    const v6 = await startRegistry({ ipv6: true });
    const ipv6Client = createRegistryClient({ insecure: [v6.host], env: {} });
    try {
      const pushed = await pushImage({ url: v6.url, repository: "six" }, {}, "v1");
      expect(v6.host).toMatch(/^\[::1\]:\d+$/);
      expect(await ipv6Client.resolve(`${v6.host}/six:v1`, "linux/amd64")).toMatchObject({ digest: pushed.digest, reference: `${v6.host}/six:v1@${pushed.digest}` });
      expect((await ipv6Client.tag(`${v6.host}/six:v1`, `${v6.host}/seven:v1`)).digest).toBe(pushed.digest);
    } finally {
      await ipv6Client.close();
      await v6.stop();
    }
  });
});

/** Whether this machine has an IPv6 loopback to listen on. */
function loopbackIPv6(): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer().once("error", () => resolve(false));
    server.listen(0, "::1", () => server.close(() => resolve(true)));
  });
}
