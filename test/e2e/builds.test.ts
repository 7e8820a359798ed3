/**
 * Real builds: for each fixture, the Dockerfile built with `buildah bud`, the Buildah script run
 * by `dockwright build --builder buildah`, and (with a Docker engine) `dockwright build --builder
 * docker` with BuildKit and with the legacy builder must give equal images: config, the work
 * directory's files (paths, modes, owners, contents), and what the stand-in installers recorded.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseImage, testUser } from "./support/base-image.ts";
import { buildahBaseImage, createBuildah, type Buildah } from "./support/buildah.ts";
import { dockerBaseImage, startDocker, type Docker } from "./support/docker.ts";
import { fileTree } from "./support/images.ts";
import {
  dockwrightBuild,
  expectedConfig,
  expectedRequirements,
  fixtureNames,
  fixturesDir,
  neutralIgnoreFile,
  prepareFixture,
  secretEnv,
  secretFlags,
  stagedPaths,
  viewOf,
  type Fixture,
  type ImageView,
} from "./support/fixtures.ts";
import { lacks } from "../support/tools.ts";

// Buildah builds every fixture; Docker's engine, where it runs, builds them again.
const noBuildah = lacks("buildah", "busybox");
const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-e2e-"));
let buildah: Buildah;
let docker: Docker | undefined;
let dockerSkip = "";
const timings: string[] = [];

async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await work();
  } finally {
    timings.push(`${what.padEnd(48)} ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
}

beforeAll(async () => {
  if (noBuildah) return;
  buildah = await createBuildah();
  await timed("buildah: base image", () => buildahBaseImage(buildah));
  const started = await timed("docker: start dockerd", () => startDocker());
  if ("skip" in started) dockerSkip = started.skip;
  else {
    docker = started;
    await timed("docker: import base image", () => dockerBaseImage(started));
  }
}, 120_000);

afterAll(async () => {
  await buildah?.destroy();
  await docker?.stop();
  await rm(scratch, { recursive: true, force: true });
  console.log(`e2e build times:\n  ${timings.join("\n  ")}`);
}, 120_000);

describe.skipIf(noBuildah).each(fixtureNames)("fixture %s", (name) => {
  let fixture: Fixture;
  let script: ImageView;

  beforeAll(async () => {
    fixture = await prepareFixture(name, path.join(scratch, name));
  });

  it("buildah bud of the Dockerfile and the Buildah script give the same image", async () => {
    const budTag = `localhost/bud/${name}:latest`;
    await timed(`${name}: buildah bud`, async () => {
      const ignore = await neutralIgnoreFile(scratch);
      await buildah.ok(["bud", "--quiet", "--ignorefile", ignore, ...secretFlags(fixture.image, path.dirname(fixture.config)),
        "--file", path.join(fixture.folder, "Dockerfile"), "--tag", budTag, fixture.context], undefined, secretEnv);
    });
    const built = await timed(`${name}: dockwright build --builder buildah`, () =>
      dockwrightBuild([fixture.config, "--builder", "buildah", "--root", fixture.root, "--out", path.join(scratch, name, "out-buildah"), "--pipeline", name], { ...buildah.env, ...secretEnv }, scratch));
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout).toBe(`${fixture.image.tag}: built with buildah\n`);

    script = await buildah.withRootfs(fixture.image.tag, async (root) => viewOf(await buildah.config(fixture.image.tag), root, fixture.image));
    const bud = await buildah.withRootfs(budTag, async (root) => viewOf(await buildah.config(budTag), root, fixture.image));
    expect(bud).toEqual(script);

    // And both are what the plan says.
    expect(script.config).toEqual(expectedConfig(fixture.image));
    expect(script.app.filter((e) => e.type !== "dir").map((e) => e.path)).toEqual(await stagedPaths(fixture.context));
    const { calls, ...requirements } = script.records;
    expect(requirements).toEqual(expectedRequirements(fixture.image));
    expect(script.secretsLeft).toEqual([]);
    if (fixture.image.secrets.length > 0) {
      expect(calls).toContain("-r /app/.zenml_user_requirements [DEBIAN_FRONTEND=] [PIP_INDEX_URL is set] [/root/.netrc is there]");
    }
    const apt = fixture.image.layers.flatMap((layer) => (layer.kind === "apt" ? layer.packages : []));
    expect(script.apt).toEqual(apt);
    if (apt.length > 0) expect(calls).toContain(`apt-get install -y --no-install-recommends ${apt.join(" ")} [DEBIAN_FRONTEND=noninteractive]`);
    const sources = fixture.image.layers.find((layer) => layer.kind === "sources");
    if (sources?.chown) {
      // As ZenML's `chown -R <user> .`: the user's, the group left root's.
      const staged = new Set(await stagedPaths(fixture.context));
      for (const entry of script.app.filter((e) => staged.has(e.path) && !e.path.startsWith(".zenml_"))) {
        expect(entry.owner, entry.path).toBe(`${testUser.uid}:0`);
      }
    }
  }, 300_000);

  it("docker build with BuildKit and with the legacy builder gives the same image", async (context) => {
    if (!docker) return context.skip(`no Docker engine: ${dockerSkip}`);
    const engine = docker;
    const build = (mode: "buildkit" | "plain") =>
      timed(`${name}: dockwright build --builder docker (${mode})`, () =>
        dockwrightBuild([
          fixture.config, "--builder", "docker", "--docker", engine.bin, "--network", "host", "--mode", mode,
          "--root", fixture.root, "--out", path.join(scratch, name, `out-docker-${mode}`), "--pipeline", name,
        ], { ...engine.env, ...secretEnv, ...(mode === "plain" ? { DOCKER_BUILDKIT: "0" } : {}) }, scratch));
    const view = () => engine.withRootfs(fixture.image.tag, async (root) => viewOf(await engine.config(fixture.image.tag), root, fixture.image));

    const buildkit = await build("buildkit");
    expect(buildkit.code, buildkit.stderr).toBe(0);
    expect(await view()).toEqual(script);

    const legacy = await build("plain");
    const dockerignore = fixture.image.context.sources?.entries.find((e) => e.path === ".dockerignore");
    if (name === "allow-list-dockerignore") {
      // The legacy builder would apply the allow-list again and lose the generated files.
      expect(legacy.code).toBe(2);
      expect(legacy.stderr).toMatch(/legacy builder would apply \.dockerignore .* drop ".zenml_/);
      return;
    }
    if (fixture.image.secrets.length > 0) {
      // The plain Dockerfile has no secret mounts: it refuses rather than store a secret.
      expect(legacy.code).toBe(2);
      expect(legacy.stderr).toContain("UNSUPPORTED_BY_BACKEND");
      return;
    }
    expect(legacy.code, legacy.stderr).toBe(0);
    const plain = await view();
    // Plain mode cleans up and passes --no-cache-dir instead of using cache mounts: other calls.
    const { calls: _, ...requirements } = script.records;
    expect({ ...plain, records: Object.fromEntries(Object.entries(plain.records).filter(([file]) => file !== "calls")) })
      .toEqual({ ...script, app: legacyApp(script, dockerignore !== undefined), records: requirements });
  }, 300_000);
});

/**
 * With a Dockerfile outside the context, the legacy client appends the Dockerfile's temporary
 * name to the context's .dockerignore (docker/cli AddDockerfileToBuildContext), which the image
 * then holds: the one difference we expect, in content (and size) only.
 */
function legacyApp(script: ImageView, hasDockerignore: boolean): ImageView["app"] {
  if (!hasDockerignore) return script.app;
  return script.app.map((e) => (e.path === ".dockerignore" ? { ...e, content: expect.any(String) as unknown as string, size: expect.any(Number) as unknown as number } : e));
}

describe.skipIf(noBuildah)("dockwright build", () => {
  const commands = path.join(fixturesDir, "commands");
  const args = (fixture: string, ...more: string[]) =>
    [path.join(commands, fixture, "run.yaml"), "--root", path.join(commands, fixture, "root"), "--pipeline", fixture, "--out", path.join(scratch, "commands", fixture, more.join("-")), ...more];

  it("builds a user Dockerfile first, then the image on top of it, with either builder", async (context) => {
    const built = await timed("dockerfile-parent: dockwright build --builder buildah", () =>
      dockwrightBuild(args("dockerfile-parent", "--builder", "buildah"), buildah.env, scratch));
    expect(built.code, built.stderr).toBe(0);
    // Plan order: the intermediate image of the user Dockerfile, then the image built on it.
    const [parentTag, tag] = built.stdout.trim().split("\n").map((line) => line.replace(/: built with buildah$/, ""));
    expect(parentTag).toBe(`${tag}-intermediate-build`);
    const viewed = await buildah.withRootfs(tag!, async (root) => ({
      config: await buildah.config(tag!),
      opt: await fileTree(path.join(root, "opt", "context")),
      greeting: await readFile(path.join(root, "opt", "greeting"), "utf8"),
    }));
    expect(viewed.greeting).toBe("hi there\n");
    // The user Dockerfile's context is its folder, filtered by its own .dockerignore.
    expect(viewed.opt.map((e) => e.path)).toEqual([".", ".dockerignore", "base.Dockerfile", "marker.txt"]);
    expect(viewed.config.Env).toEqual([expect.stringMatching(/^PATH=/), "STAGE=main", "ZENML_ENABLE_REPO_INIT_WARNINGS=False", "ZENML_CONFIG_PATH=/app/.zenconfig"]);

    if (!docker) return context.skip(`no Docker engine: ${dockerSkip}`);
    const engine = docker;
    const dockerBuilt = await timed("dockerfile-parent: dockwright build --builder docker", () =>
      dockwrightBuild(args("dockerfile-parent", "--builder", "docker", "--docker", engine.bin, "--network", "host"), engine.env, scratch));
    expect(dockerBuilt.code, dockerBuilt.stderr).toBe(0);
    expect(await engine.withRootfs(tag!, async (root) => ({
      config: await engine.config(tag!),
      opt: await fileTree(path.join(root, "opt", "context")),
      greeting: await readFile(path.join(root, "opt", "greeting"), "utf8"),
    }))).toEqual(viewed);
  }, 300_000);

  it("exits 1 with the tool's error when a build step fails, leaving no working container", async () => {
    const built = await dockwrightBuild(args("failing", "--builder", "buildah"), buildah.env, scratch);
    expect(built.code).toBe(1);
    expect(built.stderr).toContain("installing the project");
    expect(built.stderr).toMatch(/dockwright: buildah failed to build zenml:failing\S* \(exit code 3\); its output is above\.\n$/);
    expect((await buildah.ok(["containers", "--quiet"])).trim()).toBe("");
  }, 300_000);

  it.each(["buildah", "docker"])("exits 2 with a clear message when %s is not installed", async (builder) => {
    const built = await dockwrightBuild(args("failing", "--builder", builder, `--${builder}`, `/nonexistent/${builder}`), buildah.env, scratch);
    expect(built.code).toBe(2);
    expect(built.stderr).toContain(`cannot run "/nonexistent/${builder}" (ENOENT): is ${builder} installed?`);
  });
});

describe.skipIf(noBuildah)("the base image", () => {
  it("is the same for both builders", async (context) => {
    if (!docker) return context.skip(`no Docker engine: ${dockerSkip}`);
    expect(await docker.config(baseImage)).toEqual(await buildah.config(baseImage));
  });
});
