/**
 * Parents resolved against a real registry (Debian's docker-registry): the digest and
 * configuration the compile gets, what pins the build definitions, a moved tag that changes the
 * checksum, and the diagnostic when the registry has no such image.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DiagnosticError } from "@dockwright/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pushImage } from "../../../test/support/push-image.ts";
import { startRegistry, type Registry } from "../../../test/support/registry.ts";
import { lacks } from "../../../test/support/tools.ts";
import type { Io } from "./io.js";
import { main } from "./main.js";
import { writePlan } from "./output.js";
import { compileConfig } from "./pipeline.js";
import { openRegistries, type Registries } from "./registry.js";

const platform = { os: "linux", architecture: "amd64" };

describe.skipIf(lacks("registry"))("resolving parents in their registry", () => {
  let registry: Registry;
  let registries: Registries;
  let dir: string;
  const base = { Env: ["PATH=/opt/tools/bin:/usr/bin:/bin", "LANG=C.UTF-8"], User: "zenml", WorkingDir: "/home/zenml", Cmd: ["sh"], Labels: { vendor: "test" } };

  beforeAll(async () => {
    registry = await startRegistry();
    registries = openRegistries([registry.host], {});
    dir = await mkdtemp(path.join(tmpdir(), "dockwright-resolve-"));
  }, 30_000);
  afterAll(async () => {
    await registries?.close();
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("a parent resolves to its manifest digest and the configuration a build inherits", async () => {
    const pushed = await pushImage({ url: registry.url, repository: "team/base" }, { config: base }, "1.0");
    const resolved = await registries.resolveParent({ ref: `${registry.host}/team/base:1.0`, platform, path: "settings.docker.parent_image" });
    expect(resolved).toEqual({
      digest: pushed.digest,
      config: { env: [["PATH", "/opt/tools/bin:/usr/bin:/bin"], ["LANG", "C.UTF-8"]], user: "zenml", workingDir: "/home/zenml", cmd: ["sh"], labels: [["vendor", "test"]] },
    });
  });

  test("a resolution is remembered until forgotten: a watch's next compile sees a tag that moved", async () => {
    const query = { ref: `${registry.host}/team/watched:latest`, platform, path: "settings.docker.parent_image" };
    const first = await pushImage({ url: registry.url, repository: "team/watched" }, { config: base, files: { "v": "1\n" } }, "latest");
    expect((await registries.resolveParent(query))?.digest).toBe(first.digest);
    const second = await pushImage({ url: registry.url, repository: "team/watched" }, { config: base, files: { "v": "2\n" } }, "latest");
    expect((await registries.resolveParent(query))?.digest).toBe(first.digest);
    registries.forgetParents();
    expect((await registries.resolveParent(query))?.digest).toBe(second.digest);
  });

  test("Buildah's local names (localhost/NAME) are left unresolved; a missing image is a diagnostic naming the registry", async () => {
    expect(await registries.resolveParent({ ref: "localhost/dockwright-test-base:latest", platform, path: "p" })).toBeUndefined();
    const failure = await registries.resolveParent({ ref: `${registry.host}/team/none:1.0`, platform, path: "settings.docker.parent_image" }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DiagnosticError);
    expect((failure as DiagnosticError).diagnostics[0]).toMatchObject({
      code: "PARENT_UNRESOLVED",
      path: "settings.docker.parent_image",
      message: expect.stringMatching(new RegExp(`^cannot resolve the parent image "${registry.host}/team/none:1\\.0" in its registry: .*does not exist in registry ${registry.host}.*--no-resolve\\.$`)),
    });
  });

  test("the compile pins every backend to the digest; a moved tag changes the checksum", async () => {
    const config = path.join(dir, "moved.yaml");
    await writeFile(config, `settings: {docker: {parent_image: "${registry.host}/team/moving:latest", apt_packages: [curl], install_stack_requirements: false}}\n`);
    const compile = async (name: string) => {
      // A registries client per compile: resolutions are remembered for one run.
      const fresh = openRegistries([registry.host], {});
      try {
        const out = path.join(dir, name);
        const result = await compileConfig({ configPath: config, root: dir, out, resolveParent: fresh.resolveParent });
        if ("message" in result || !result.plan) throw new Error(JSON.stringify(result));
        const written = await writePlan(result.compiler, result.plan, out, { backends: ["dockerfile", "buildah", "llb"], mode: "buildkit" });
        return { image: result.plan.images[0]!, out, diagnostics: written.diagnostics };
      } finally {
        await fresh.close();
      }
    };
    const first = await pushImage({ url: registry.url, repository: "team/moving" }, { config: base, files: { "v": "1\n" } }, "latest");
    const before = await compile("before");
    const pinned = `${registry.host}/team/moving@${first.digest}`;
    expect(await readFile(path.join(before.out, "orchestrator", "Dockerfile"), "utf8")).toMatch(new RegExp(`^FROM ${pinned}\n`));
    expect(await readFile(path.join(before.out, "orchestrator", "build.sh"), "utf8")).toContain(`parent=$(buildah pull --quiet --policy missing ${pinned})`);
    expect(await readFile(path.join(before.out, "orchestrator", "llb.json"), "utf8")).toContain(`docker-image://${pinned}`);
    // LLB knows the parent: no warning, and the steps run as its user.
    expect(before.diagnostics).toEqual([]);
    expect(JSON.parse(await readFile(path.join(before.out, "orchestrator", "image-config.json"), "utf8")).config).toMatchObject({ User: "zenml", Cmd: ["sh"], Labels: { vendor: "test" } });
    const plan = JSON.parse(await readFile(path.join(before.out, "plan.json"), "utf8"));
    expect(plan.images[0].parent).toEqual({ ref: `${registry.host}/team/moving:latest`, digest: first.digest });

    expect((await compile("again")).image.checksum).toBe(before.image.checksum);
    const second = await pushImage({ url: registry.url, repository: "team/moving" }, { config: base, files: { "v": "2\n" } }, "latest");
    expect(second.digest).not.toBe(first.digest);
    expect((await compile("after")).image.checksum).not.toBe(before.image.checksum);
  });

  test("explain says whether the registry holds each image's content tag", async () => {
    const parent = `${registry.host}/team/base:1.0`;
    await pushImage({ url: registry.url, repository: "team/base" }, { config: base }, "1.0");
    const config = path.join(dir, "explain.yaml");
    await writeFile(config, `settings: {docker: {parent_image: "${parent}", apt_packages: [curl], install_stack_requirements: false}}\n`);
    const explain = async (...more: string[]) => {
      let stdout = "";
      const io: Io = { cwd: dir, env: {}, stdout: (t) => (stdout += t), stderr: () => {}, stderrIsTTY: false };
      const code = await main(["explain", config, "--json", "--root", dir, "--out", path.join(dir, "explain-out"), "--insecure-registry", registry.host, ...more], io);
      return { code, events: stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>) };
    };
    const before = await explain("--registry", `${registry.host}/explained`);
    expect(before.code).toBe(0);
    const image = before.events.find((e) => e["event"] === "explain")!;
    const reference = `${registry.host}/explained/zenml:dockwright-${(image["checksum"] as string).slice(7)}`;
    expect(image["registry"]).toEqual({ holds: false, reference });
    const pushed = await pushImage({ url: registry.url, repository: "explained/zenml" }, {}, reference.split(":").at(-1));
    const after = await explain("--registry", `${registry.host}/explained`);
    expect(after.events.find((e) => e["event"] === "explain")!["registry"]).toEqual({ holds: true, reference, digest: pushed.digest });
    // No registry named: nothing to ask.
    expect((await explain()).events.find((e) => e["event"] === "explain")!["registry"]).toBeUndefined();
    // A registry uri that is no uri.
    const bad = await explain("--registry", "https://registry.example.com");
    expect(bad.code).toBe(2);
    expect(bad.events[0]).toMatchObject({ code: "INVALID_IMAGE_REF", path: "registry", message: expect.stringContaining('"https://registry.example.com" is not a container registry uri') });
  });
});

test("the builders are told the hosts the client reaches over HTTP, however the flag writes them", async () => {
  const registries = openRegistries(["http://Registry.Local:5000/", " 127.0.0.1:5001 "], { DOCKWRIGHT_INSECURE_REGISTRIES: "https://ci.example:443,other:1" });
  try {
    for (const host of ["registry.local:5000", "127.0.0.1:5001", "ci.example:443", "other:1"]) expect(registries.access.insecure(host), host).toBe(true);
    expect(registries.access.insecure("registry.local:5001")).toBe(false);
  } finally {
    await registries.close();
  }
});

test("the builders get Docker's credentials for a host, read once per run", async () => {
  const config = await mkdtemp(path.join(tmpdir(), "dockwright-docker-config-"));
  const auth = Buffer.from("robot:s3cret").toString("base64");
  await writeFile(path.join(config, "config.json"), JSON.stringify({ auths: { "registry.local:5000": { auth }, "token.local": { identitytoken: "refresh" } } }));
  const registries = openRegistries([], { DOCKER_CONFIG: config });
  try {
    expect(await registries.access.credentials("registry.local:5000")).toEqual({ username: "robot", secret: "s3cret" });
    expect(await registries.access.credentials("token.local")).toEqual({ username: "<token>", secret: "refresh" });
    expect(await registries.access.credentials("other.local")).toBeUndefined();
    await rm(config, { recursive: true });
    expect(await registries.access.credentials("registry.local:5000")).toEqual({ username: "robot", secret: "s3cret" });
  } finally {
    await registries.close();
  }
});
