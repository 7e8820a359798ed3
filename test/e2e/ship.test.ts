/**
 * Shipping images, end to end, with real registries (Debian's docker-registry: plain HTTP, and
 * htpasswd basic auth behind TLS with a test CA) and real builders (Buildah, Docker 20.10's
 * engine, a buildkitd): `dockwright build --push` pushes every image under its scope's tag and its
 * content tag; a second build from an empty output folder, even on a machine without the images,
 * builds nothing and reports each image reused with its digest; build A, B, A leaves the scope's
 * tag at A; a moved parent tag rebuilds the image; BuildKit builds an image on another image of the
 * plan (pushed first); LLB inherits a resolved parent's PATH, user and variables; credentials come
 * from config.json or a credential helper, and bad ones stop the build with exit 2, no secret shown.
 * Run under the heavy-job lock: `flock /tmp/dockwright-heavy.lock npx vitest run test/e2e/ship.test.ts`.
 */
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRegistryClient, type RegistryClient } from "@dockwright/registry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseCmd, basePath } from "./support/base-image.ts";
import { createBuildah, pushBaseImage, type Buildah } from "./support/buildah.ts";
import { startDocker, type Docker } from "./support/docker.ts";
import { dockwrightBuild, fixturesDir } from "./support/fixtures.ts";
import type { Env } from "./support/run.ts";
import { unpackOci } from "../buildkit/support/oci.ts";
import { startBuildkitd, type Buildkitd } from "../support/buildkitd.ts";
import { makeCertificates } from "../support/certs.ts";
import { startRegistry, type Registry } from "../support/registry.ts";
import { lacks, toolPath } from "../support/tools.ts";

const noBuildah = lacks("buildah", "busybox", "registry", "htpasswd", "openssl");
const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-e2e-ship-"));
const example = path.join(import.meta.dirname, "..", "..", "examples", "training-pipeline");
const user = { name: "shipper", password: "ship-Pa55word-not-real" };
const timings: string[] = [];

let plain: Registry;
let secure: Registry;
/** The test base image in each registry. */
let plainBase: string;
let secureBase: string;
let buildah: Buildah;
let docker: Docker | undefined;
let dockerSkip = "";
/** Reads both registries as a user would check them. */
let client: RegistryClient;
/** A Docker config folder with the right password for the secure registry. */
let goodConfig: string;

async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await work();
  } finally {
    timings.push(`${what.padEnd(64)} ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
}

async function dockerConfig(name: string, config: object): Promise<string> {
  const dir = path.join(scratch, "docker-config", name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "config.json"), JSON.stringify(config));
  return dir;
}

const basic = (password: string) => Buffer.from(`${user.name}:${password}`).toString("base64");

beforeAll(async () => {
  if (noBuildah) return;
  const certs = makeCertificates(await mkdtemp(path.join(scratch, "certs-")));
  plain = await startRegistry();
  secure = await startRegistry({ tls: certs, htpasswd: { [user.name]: user.password } });
  plainBase = await timed("push the base image (plain registry)", () => pushBaseImage(plain.host));
  secureBase = await timed("push the base image (htpasswd, TLS)", () => pushBaseImage(secure.host, { creds: `${user.name}:${user.password}` }));
  goodConfig = await dockerConfig("good", { auths: { [secure.host]: { auth: basic(user.password) } } });
  client = createRegistryClient({ ca: certs.ca, insecure: [plain.host], dockerConfig: goodConfig, env: {} });
  buildah = await createBuildah();
  const started = await startDocker();
  if ("skip" in started) dockerSkip = started.skip;
  else docker = started;
}, 180_000);

afterAll(async () => {
  await client?.close();
  await buildah?.destroy();
  await docker?.stop();
  await plain?.stop();
  await secure?.stop();
  await rm(scratch, { recursive: true, force: true });
  if (timings.length > 0) console.log(`e2e shipping times:\n  ${timings.join("\n  ")}`);
}, 120_000);

/**
 * A copy of the example pipeline whose parent is `parent` (python:3.11-slim is not reachable
 * here) and whose stack has a container registry at `registry` (none: images named without one).
 */
async function exampleCopy(name: string, parent: string, registry?: string): Promise<{ config: string; root: string }> {
  const root = path.join(scratch, name);
  await cp(example, root, { recursive: true });
  const config = path.join(root, "training.yaml");
  let text = (await readFile(config, "utf8")).replace("parent_image: python:3.11-slim", `parent_image: ${parent}`);
  if (registry) text = text.replace("    - { type: artifact_store, flavor: local }", `    - { type: artifact_store, flavor: local }\n    - { type: container_registry, flavor: default, uri: "${registry}" }`);
  await writeFile(config, text);
  return { config, root };
}

/** One image, small: a requirement and an apt package (or other `settings` lines) on `parent`, pushed under `registry`. */
async function smallConfig(name: string, parent: string, registry: string, requirement = "numpy==1.26.4", settings = ["    apt_packages: [curl]"]): Promise<{ config: string; root: string }> {
  return runConfig(name, [`    parent_image: ${parent}`, `    requirements: [${requirement}]`, ...settings], registry);
}

/** A run configuration of one image: `docker` (the settings' lines), nothing of the stack's or the code's, pushed under `registry`. */
async function runConfig(name: string, docker: string[], registry: string): Promise<{ config: string; root: string }> {
  const root = path.join(scratch, name);
  await mkdir(root, { recursive: true });
  const config = path.join(root, "run.yaml");
  await writeFile(config, [
    "settings:",
    "  docker:",
    ...docker,
    "    install_stack_requirements: false",
    "    allow_including_files_in_images: false",
    "    allow_download_from_code_repository: false",
    "    allow_download_from_artifact_store: false",
    "stack:",
    "  components:",
    "    - { type: orchestrator, flavor: local_docker }",
    `    - { type: container_registry, flavor: default, uri: "${registry}" }`,
    "",
  ].join("\n"));
  return { config, root };
}

type ImageEvent = { action: string; key: string; tag: string; checksum: string; contentTag: string; from?: string; digest?: string; references?: string[] };

function imageEvents(stdout: string): ImageEvent[] {
  return stdout.trim().split("\n").map((line) => JSON.parse(line) as { event: string } & ImageEvent).filter((e) => e.event === "image");
}

const byKey = (events: ImageEvent[]) => Object.fromEntries(events.map((e) => [e.key, e]));

describe.skipIf(noBuildah)("buildah: push, then reuse through the registry", () => {
  const insecure = () => ["--insecure-registry", plain.host];

  it("pushes every image with its digest; from an empty output folder, on a machine without the images, builds nothing", async () => {
    const { config, root } = await exampleCopy("example-buildah", plainBase, `${plain.host}/team`);
    const out = path.join(scratch, "example-buildah-out");
    const args = [config, "--builder", "buildah", "--root", root, "--out", out, "--push", ...insecure(), "--json"];
    const first = await timed("example: dockwright build --push (buildah, 2 images)", () => dockwrightBuild(args, buildah.env, scratch));
    expect(first.code, first.stderr).toBe(0);
    const built = byKey(imageEvents(first.stdout));
    expect(Object.keys(built).sort()).toEqual(["orchestrator", "trainer.orchestrator"]);
    for (const image of Object.values(built)) {
      expect(image).toMatchObject({ action: "built", digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
      expect(image.references).toEqual([`${image.tag}@${image.digest}`, `${image.contentTag}@${image.digest}`]);
      expect(image.contentTag).toBe(`${plain.host}/team/zenml:dockwright-${image.checksum.slice(7)}`);
      // The registry holds both tags at that digest.
      expect((await client.resolve(image.tag)).digest).toBe(image.digest);
      expect((await client.resolve(image.contentTag)).digest).toBe(image.digest);
    }
    const plan = JSON.parse(await readFile(path.join(out, "plan.json"), "utf8")) as { registry: string; images: { key: string; pushed: unknown; parent: { digest: string } }[] };
    expect(plan.registry).toBe(`${plain.host}/team`);
    for (const image of plan.images) {
      expect(image.pushed).toEqual({ digest: built[image.key]!.digest, references: built[image.key]!.references });
      expect(image.parent.digest).toMatch(/^sha256:/);
    }

    // A fresh clone on another machine: no output folder, no local images.
    await rm(out, { recursive: true, force: true });
    const elsewhere = await createBuildah();
    try {
      const again = await timed("example: dockwright build --push again, all reused", () => dockwrightBuild(args, elsewhere.env, scratch));
      expect(again.code, again.stderr).toBe(0);
      const reused = byKey(imageEvents(again.stdout));
      for (const [key, image] of Object.entries(reused)) {
        expect(image).toMatchObject({ action: "reused", from: "registry", digest: built[key]!.digest });
        expect(image.references).toEqual([`${image.tag}@${image.digest}`, `${image.contentTag}@${image.digest}`]);
      }
      expect(JSON.parse(again.stdout.trim().split("\n").at(-1)!)).toMatchObject({ built: 0, reused: 2, pushed: 2 });
      // Nothing ran: the second machine's storage holds no image.
      expect((await elsewhere.ok(["images", "--quiet"])).trim()).toBe("");
      const people = await dockwrightBuild(args.filter((a) => a !== "--json"), elsewhere.env, scratch);
      expect(people.stdout).toContain(`${built["orchestrator"]!.tag}: reused ${built["orchestrator"]!.tag}@${built["orchestrator"]!.digest} and `);
    } finally {
      await elsewhere.destroy();
    }
  }, 600_000);

  it("build A, B, A: the scope's tag holds A's image again, reused without a build", async () => {
    const a = await smallConfig("aba-a", plainBase, plain.host, "numpy==1.26.4");
    const b = await smallConfig("aba-b", plainBase, plain.host, "numpy==2.0.0");
    const out = path.join(scratch, "aba-out");
    const build = (which: { config: string; root: string }) =>
      dockwrightBuild([which.config, "--builder", "buildah", "--root", which.root, "--out", out, "--pipeline", "aba", "--push", ...insecure(), "--json"], buildah.env, scratch);
    const [first] = imageEvents((await build(a)).stdout);
    const [second] = imageEvents((await build(b)).stdout);
    expect(first!.action).toBe("built");
    expect(second!.action).toBe("built");
    expect(second!.tag).toBe(first!.tag);
    expect((await client.resolve(first!.tag)).digest).toBe(second!.digest);
    const [third] = imageEvents((await build(a)).stdout);
    expect(third).toMatchObject({ action: "reused", from: "registry", digest: first!.digest });
    expect((await client.resolve(first!.tag)).digest).toBe(first!.digest);
  }, 600_000);

  it("a moved parent tag rebuilds the image; the same parent again is reused", async () => {
    const parent = await pushBaseImage(plain.host, { repository: "moving-base:1" });
    const { config, root } = await smallConfig("moved", parent, plain.host);
    const out = path.join(scratch, "moved-out");
    const build = () => dockwrightBuild([config, "--builder", "buildah", "--root", root, "--out", out, "--push", ...insecure(), "--json"], buildah.env, scratch);
    const [first] = imageEvents((await build()).stdout);
    expect(first!.action).toBe("built");
    const [same] = imageEvents((await build()).stdout);
    expect(same).toMatchObject({ action: "reused", checksum: first!.checksum });
    // The tag moves to another image.
    await pushBaseImage(plain.host, { repository: "moving-base:1", variant: { labels: { moved: "yes" } } });
    const rebuilt = await build();
    const [moved] = imageEvents(rebuilt.stdout);
    expect(moved!.action, rebuilt.stderr).toBe("built");
    expect(moved!.checksum).not.toBe(first!.checksum);
    const plan = JSON.parse(await readFile(path.join(out, "orchestrator", "plan.json"), "utf8")) as { parent: { resolved: { digest: string } } };
    expect(plan.parent.resolved.digest).toBe((await client.resolve(parent)).manifestDigest);
    // The image really starts from the moved parent.
    expect((await buildah.config(moved!.tag)).Labels).toMatchObject({ moved: "yes" });
  }, 600_000);

  it("nothing to install: the parent's manifest is copied to the image's tag in the registry, nothing built", async () => {
    const { config, root } = await runConfig("retag", [`    parent_image: ${plainBase}`], `${plain.host}/retagged`);
    const parent = await client.resolve(plainBase);
    const result = await dockwrightBuild([config, "--builder", "buildah", "--root", root, "--out", path.join(scratch, "retag-out"), "--push", ...insecure(), "--json"], buildah.env, scratch);
    expect(result.code, result.stderr).toBe(0);
    const [image] = imageEvents(result.stdout);
    expect(image).toMatchObject({ action: "tagged", digest: parent.digest, references: [`${image!.tag}@${parent.digest}`] });
    expect(image!.tag.startsWith(`${plain.host}/retagged/zenml:`)).toBe(true);
    // The same manifest, byte for byte, under the image's tag in another repository.
    expect((await client.resolve(image!.tag)).digest).toBe(parent.digest);
  }, 120_000);
});

describe.skipIf(noBuildah)("credentials: htpasswd behind TLS", () => {
  const insecure = () => ["--insecure-registry", secure.host];

  it("from config.json's auths, then from a credential helper; nothing is built the second time", async () => {
    const { config, root } = await smallConfig("secure", secureBase, `${secure.host}/private`);
    const out = path.join(scratch, "secure-out");
    const args = [config, "--builder", "buildah", "--root", root, "--out", out, "--push", ...insecure(), "--json"];
    const first = await timed("secure registry: build --push (config.json)", () => dockwrightBuild(args, { ...buildah.env, DOCKER_CONFIG: goodConfig }, scratch));
    expect(first.code, first.stderr).toBe(0);
    const [built] = imageEvents(first.stdout);
    expect(built).toMatchObject({ action: "built", digest: expect.stringMatching(/^sha256:/) });
    expect((await client.resolve(built!.tag)).digest).toBe(built!.digest);
    // No secret in the build definitions, the plan or the output.
    const written = await Promise.all((await readdir(out, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => readFile(path.join(e.parentPath, e.name), "utf8")));
    expect(written.length).toBeGreaterThan(3);
    for (const text of [...written, first.stdout, first.stderr]) {
      expect(text).not.toContain(user.password);
      expect(text).not.toContain(basic(user.password));
    }

    // A credential helper (a stand-in script on PATH) answers for the registry instead.
    const bin = path.join(scratch, "helper-bin");
    await mkdir(bin, { recursive: true });
    const asked = path.join(scratch, "helper-asked");
    await writeFile(path.join(bin, "docker-credential-dwtest"), [
      "#!/bin/sh",
      '[ "$1" = get ] || exit 1',
      `read -r server; echo "$server" >> ${asked}`,
      `printf '{"ServerURL":"%s","Username":"${user.name}","Secret":"${user.password}"}' "$server"`,
      "",
    ].join("\n"), { mode: 0o755 });
    const helperConfig = await dockerConfig("helper", { credHelpers: { [secure.host]: "dwtest" } });
    await rm(out, { recursive: true, force: true });
    const env = { ...buildah.env, DOCKER_CONFIG: helperConfig, PATH: `${bin}:${buildah.env["PATH"]}` };
    const again = await dockwrightBuild(args, env, scratch);
    expect(again.code, again.stderr).toBe(0);
    expect(imageEvents(again.stdout)[0]).toMatchObject({ action: "reused", digest: built!.digest });
    expect((await readFile(asked, "utf8")).split("\n")).toContain(secure.host);
    // A change: built, pushed with the helper's credentials (buildah gets them too).
    await writeFile(config, (await readFile(config, "utf8")).replace("apt_packages: [curl]", "apt_packages: [curl, git]"));
    const changed = await dockwrightBuild(args, env, scratch);
    expect(changed.code, changed.stderr).toBe(0);
    expect(imageEvents(changed.stdout)[0]).toMatchObject({ action: "built", digest: expect.stringMatching(/^sha256:/) });
  }, 600_000);

  it("bad credentials: exit 2, a message naming the registry, never the secret", async () => {
    const { config, root } = await smallConfig("refused", secureBase, `${secure.host}/private`);
    const wrong = "wrong-Pa55word-not-real";
    const badConfig = await dockerConfig("bad", { auths: { [secure.host]: { auth: basic(wrong) } } });
    const result = await dockwrightBuild([config, "--builder", "buildah", "--root", root, "--out", path.join(scratch, "refused-out"), "--push", ...insecure()],
      { ...buildah.env, DOCKER_CONFIG: badConfig }, scratch);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`registry ${secure.host} refused the credentials from ${path.join(badConfig, "config.json")}`);
    for (const secret of [wrong, basic(wrong), user.password]) {
      expect(result.stdout + result.stderr).not.toContain(secret);
    }
  }, 120_000);
});

describe.skipIf(noBuildah)("docker 20.10: push, then reuse", () => {
  it("pushes both images of the example to --registry, then reuses them from an empty output folder", async (context) => {
    if (!docker) return context.skip(`no Docker engine: ${dockerSkip}`);
    const engine = docker;
    const { config, root } = await exampleCopy("example-docker", plainBase);
    const out = path.join(scratch, "example-docker-out");
    const args = [config, "--builder", "docker", "--docker", engine.bin, "--network", "host", "--root", root, "--out", out,
      "--registry", `${plain.host}/docker`, "--push", "--insecure-registry", plain.host, "--json"];
    const first = await timed("example: dockwright build --push (docker, 2 images)", () => dockwrightBuild(args, engine.env, scratch));
    expect(first.code, first.stderr).toBe(0);
    const built = byKey(imageEvents(first.stdout));
    expect(Object.keys(built).sort()).toEqual(["orchestrator", "trainer.orchestrator"]);
    for (const image of Object.values(built)) {
      expect(image.action).toBe("built");
      expect(image.tag.startsWith(`${plain.host}/docker/zenml:`)).toBe(true);
      expect((await client.resolve(image.contentTag)).digest).toBe(image.digest);
    }
    await rm(out, { recursive: true, force: true });
    const again = await dockwrightBuild(args, engine.env, scratch);
    expect(again.code, again.stderr).toBe(0);
    const reused = imageEvents(again.stdout);
    expect(reused.map((image) => image.key).sort()).toEqual(["orchestrator", "trainer.orchestrator"]);
    for (const image of reused) expect(image).toMatchObject({ action: "reused", from: "registry", digest: built[image.key]!.digest });
  }, 600_000);

  it("pushes to the htpasswd registry behind TLS with config.json's credentials", async (context) => {
    if (!docker) return context.skip(`no Docker engine: ${dockerSkip}`);
    const { config, root } = await smallConfig("secure-docker", secureBase, `${secure.host}/docker`);
    // The engine's client reads the same config.json as Dockwright.
    const env: Env = { ...docker.env, DOCKER_CONFIG: goodConfig };
    const built = await dockwrightBuild([config, "--builder", "docker", "--docker", docker.bin, "--network", "host", "--root", root, "--out", path.join(scratch, "secure-docker-out"),
      // The legacy builder: BuildKit in Docker's engine speaks plain HTTP to a registry on loopback.
      "--mode", "plain", "--push", "--insecure-registry", secure.host, "--json"], env, scratch);
    expect(built.code, built.stderr).toBe(0);
    const [image] = imageEvents(built.stdout);
    expect((await client.resolve(image!.tag)).digest).toBe(image!.digest);
  }, 600_000);
});

describe.skipIf(noBuildah || lacks("buildkitd", "buildctl", "runc"))("buildkit: plan parents and resolved parents", () => {
  let daemon: Buildkitd;
  /** No buildctl: the native client. */
  const env = { ...process.env, PATH: "/usr/bin:/bin", BUILDKIT_HOST: undefined };
  /**
   * A parent whose tools are off BuildKit's default PATH, with a variable and a user of its own:
   * `builder`, uid 0 (so ZenML's `chmod -R a+rw .` may change what COPY gave root) but group 1003,
   * which the stand-ins' records show when the steps run as that user and not as root.
   */
  let oddParent: string;

  beforeAll(async () => {
    daemon = await startBuildkitd({ registries: [plain.host] });
    oddParent = await pushBaseImage(plain.host, {
      repository: "odd-base:1",
      variant: {
        rootfs: { toolsDir: "/opt/tools/bin", user: { name: "builder", uid: 0, gid: 1003 } },
        env: ["PATH=/opt/tools/bin:/usr/local/bin:/usr/bin:/bin", "PARENT_MARK=from-the-parent"],
        user: "builder",
        entrypoint: ["/bin/sh", "-e"],
        labels: { "org.example.base": "odd" },
        name: "localhost/odd-base:1",
      },
    });
  }, 180_000);
  afterAll(() => daemon?.stop(), 60_000);

  it("builds an image on another image of the plan: the parent pushed first, the child pinned to its digest; then both reused", async () => {
    const dir = path.join(scratch, "plan-parent");
    await cp(path.join(fixturesDir, "commands", "dockerfile-parent"), dir, { recursive: true });
    const dockerfile = path.join(dir, "root", "docker", "base.Dockerfile");
    await writeFile(dockerfile, (await readFile(dockerfile, "utf8")).replace("localhost/dockwright-test-base:latest", plainBase));
    const config = path.join(dir, "root", "run.yaml");
    await writeFile(config, `${(await readFile(path.join(dir, "run.yaml"), "utf8")).replaceAll("root/docker", "docker")}stack:\n  components:\n    - { type: orchestrator, flavor: local_docker }\n    - { type: container_registry, flavor: default, uri: "${plain.host}/kit" }\n`);
    const out = path.join(scratch, "plan-parent-out");
    // Without --push: the parent goes to the registry all the same, for BuildKit to pull.
    const args = [config, "--builder", "buildkit", "--addr", daemon.address, "--root", path.join(dir, "root"), "--out", out, "--insecure-registry", plain.host, "--json"];
    const first = await timed("plan parent: dockwright build (buildkit)", () => dockwrightBuild(args, env, scratch));
    expect(first.code, first.stderr).toBe(0);
    const [parent, child] = imageEvents(first.stdout);
    expect(parent).toMatchObject({ key: "orchestrator.intermediate", action: "built", digest: expect.stringMatching(/^sha256:/) });
    expect(child).toMatchObject({ key: "orchestrator", action: "built" });
    expect(child!.digest).toBeUndefined();
    const llb = await readFile(path.join(out, "orchestrator", "llb.json"), "utf8");
    expect(llb).toContain(`docker-image://${plain.host}/kit/zenml@${parent!.digest}`);
    // The child's LLB knows the parent's configuration now: the base's PATH and CMD, not BuildKit's defaults.
    const childConfig = JSON.parse(await readFile(path.join(out, "orchestrator", "image-config.json"), "utf8")).config;
    expect(childConfig).toMatchObject({ Env: expect.arrayContaining([`PATH=${basePath}`]), Cmd: baseCmd });

    await rm(out, { recursive: true, force: true });
    const pushed = await dockwrightBuild([...args, "--push"], env, scratch);
    expect(pushed.code, pushed.stderr).toBe(0);
    const again = byKey(imageEvents(pushed.stdout));
    // The parent is reused from its content tag; the child builds once and is pushed.
    expect(again["orchestrator.intermediate"]).toMatchObject({ action: "reused", digest: parent!.digest });
    expect(again["orchestrator"]).toMatchObject({ action: "built", digest: expect.stringMatching(/^sha256:/) });
    await rm(out, { recursive: true, force: true });
    const third = byKey(imageEvents((await dockwrightBuild([...args, "--push"], env, scratch)).stdout));
    expect(third["orchestrator"]).toMatchObject({ action: "reused", digest: again["orchestrator"]!.digest });
  }, 600_000);

  it("LLB's steps run with a resolved parent's PATH, user and variables, as the Buildah script's do", async () => {
    const { config, root } = await smallConfig("odd", oddParent, `${plain.host}/odd`, "numpy==1.26.4", ["    apt_packages: [curl]", "    environment: {greeting: hello}"]);
    const oci = path.join(scratch, "odd-oci");
    const args = (...more: string[]) => [config, "--builder", "buildkit", "--addr", daemon.address, "--root", root, "--out", path.join(scratch, "odd-out"),
      "--insecure-registry", plain.host, "--oci", oci, ...more];
    // Not resolved, LLB starts from BuildKit's default PATH, where the parent's tools are not.
    const blind = await dockwrightBuild(args("--no-resolve"), env, scratch);
    expect(blind.code).toBe(1);
    expect(blind.stderr).toMatch(/apt-get: not found/);
    expect(blind.stderr).toContain("is not resolved, so raw LLB cannot know its configuration");
    // A failed build leaves no tarball.
    expect(existsSync(oci) ? await readdir(oci) : []).toEqual([]);
    // buildctl opens its tarball as the build starts: none is left after a failure either.
    const blindCtl = await dockwrightBuild([...args("--no-resolve"), "--builder", "buildctl", "--buildctl", toolPath("buildctl")!], env, scratch);
    expect(blindCtl.code).toBe(1);
    expect(blindCtl.stderr).toMatch(/apt-get: not found/);
    expect(existsSync(oci) ? await readdir(oci) : []).toEqual([]);

    const built = await dockwrightBuild(args(), env, scratch);
    expect(built.code, built.stderr).toBe(0);
    const [tarball] = await readdir(oci);
    const image = await unpackOci(path.join(oci, tarball!), path.join(scratch, "odd-image"));
    const calls = (await readFile(path.join(image.root, "var/log/dockwright/calls"), "utf8")).trimEnd().split("\n");
    // apt-get update, apt-get install, pip install uv, uv pip install -r: each as the parent's user, with its variable.
    expect(calls).toHaveLength(4);
    for (const call of calls) expect(call).toMatch(/ \[PARENT_MARK=from-the-parent\] \[uid=0 gid=1003\]$/);
    expect(calls.at(-1)).toMatch(/^uv pip install -r \/app\/\.zenml_user_requirements /);

    // The same plan with the Buildah script: the same configuration, the same calls.
    const script = await dockwrightBuild([config, "--builder", "buildah", "--root", root, "--out", path.join(scratch, "odd-out-buildah"), "--insecure-registry", plain.host, "--json"], buildah.env, scratch);
    expect(script.code, script.stderr).toBe(0);
    const [{ tag }] = imageEvents(script.stdout) as [ImageEvent];
    const expected = await buildah.config(tag);
    expect(image.config).toEqual(expected);
    expect(image.config).toMatchObject({ User: "builder", Entrypoint: ["/bin/sh", "-e"], Cmd: baseCmd, Labels: { "org.example.base": "odd" } });
    expect(image.config.Env.slice(0, 3)).toEqual(["PATH=/opt/tools/bin:/usr/local/bin:/usr/bin:/bin", "PARENT_MARK=from-the-parent", "GREETING=hello"]);
    const buildahCalls = await buildah.withRootfs(tag, (rootfs) => readFile(path.join(rootfs, "var/log/dockwright/calls"), "utf8"));
    expect(buildahCalls.trimEnd().split("\n")).toEqual(calls);
  }, 600_000);
});
