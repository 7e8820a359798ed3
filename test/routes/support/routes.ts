/**
 * The five routes from a Dockwright plan to an image, on daemons shared by the whole suite:
 *
 * - `script`: `dockwright build --builder buildah` (each image's build.sh);
 * - `bud`: `buildah bud` of each image's Dockerfile (BuildKit mode) over its staged context;
 * - `docker-buildkit`, `docker-legacy`: `dockwright build --builder docker` on Docker 20.10's
 *   engine, `--mode buildkit` and `--mode plain` with DOCKER_BUILDKIT=0;
 * - `buildkit`: `dockwright build --builder buildkit` (llb.pb, the native client) on buildkitd
 *   v0.11.6, images written as OCI tarballs.
 *
 * Every image is read back the same way (its config, its whole file tree, the stand-in installers'
 * records) for the test to compare. Fixtures are copies whose parent image is the test registry's
 * base image, which every store holds: pushed from Buildah's, pulled by Docker and BuildKit.
 */
import { existsSync } from "node:fs";
import { cp, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { formatDiagnostic, hasErrors, type ImagePlan } from "@dockwright/core";
import { stageContext } from "@dockwright/context";
import { parseDocument } from "yaml";
import { writePlan } from "../../../packages/cli/src/output.ts";
import { compileConfig } from "../../../packages/cli/src/pipeline.ts";
import { baseImage } from "../../e2e/support/base-image.ts";
import { buildahBaseImage, createBuildah, type Buildah } from "../../e2e/support/buildah.ts";
import { startDocker, type Docker } from "../../e2e/support/docker.ts";
import { dockwrightBuild, neutralIgnoreFile, secretEnv, secretFlags } from "../../e2e/support/fixtures.ts";
import { fileTree, textFiles, type ConfigView, type TreeEntry } from "../../e2e/support/images.ts";
import type { Env } from "../../e2e/support/run.ts";
import { unpackDockerArchive, unpackOci } from "../../buildkit/support/oci.ts";
import { startBuildkitd, type Buildkitd } from "../../support/buildkitd.ts";
import { startRegistry, type Registry } from "../../support/registry.ts";

export const routeNames = ["script", "bud", "docker-buildkit", "docker-legacy", "buildkit"] as const;
export type RouteName = (typeof routeNames)[number];

/** What the routes must agree on, for one image. */
export type View = { config: ConfigView; tree: TreeEntry[]; records: Record<string, string> };

export type Daemons = {
  registry: Registry;
  /** The base image in the test registry: every fixture's parent. */
  parent: string;
  buildah: Buildah;
  docker: Docker;
  buildkitd: Buildkitd;
  stop(): Promise<void>;
};

/** Starts the registry, Buildah's storage, Docker's engine and buildkitd, the base image in each. */
export async function startDaemons(): Promise<Daemons> {
  const registry = await startRegistry();
  const buildah = await createBuildah();
  const started: { docker?: Docker; buildkitd?: Buildkitd } = {};
  const stop = async () => {
    await started.docker?.stop();
    await started.buildkitd?.stop();
    await buildah.destroy();
    await registry.stop();
  };
  try {
    await buildahBaseImage(buildah);
    const parent = `${registry.host}/dockwright-test-base:latest`;
    await buildah.ok(["push", "--quiet", "--tls-verify=false", baseImage, `docker://${parent}`]);
    await buildah.ok(["tag", baseImage, parent]);
    const [docker, buildkitd] = await Promise.all([startDocker(), startBuildkitd({ registries: [registry.host] })]);
    started.buildkitd = buildkitd;
    if ("skip" in docker) throw new Error(docker.skip);
    started.docker = docker;
    // Docker's engine reaches registries on 127.0.0.0/8 over plain HTTP without being told.
    await docker.ok(["pull", "--quiet", parent]);
    return { registry, parent, buildah, docker, buildkitd, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A fixture ready to build: a copy, its parent pointed at the registry's base image, compiled once. */
export type Case = {
  name: string;
  config: string;
  root: string;
  /** Flags every `dockwright build` of it takes besides the builder's. */
  flags: string[];
  env: Env;
  images: ImagePlan[];
  /** The compiled plan (Dockerfiles in BuildKit mode), for the `bud` route. */
  out: string;
  work: string;
};

/** The environment of every build: the fixtures' build secrets. */
const buildEnv = { ...secretEnv, PRIVATE_INDEX_URL: secretEnv.DOCKWRIGHT_TEST_INDEX_URL };

/**
 * A fixture (`dir/NAME`: run.yaml beside root/, optional options.json; a golden fixture's expected/
 * left out) copied under `work`, every parent image the registry's base image. `prepare` changes
 * the copied root first.
 */
export async function fixtureCase(dir: string, name: string, work: string, daemons: Pick<Daemons, "parent" | "registry">, prepare?: (root: string) => Promise<void>): Promise<Case> {
  const { parent } = daemons;
  const copy = path.join(work, "fixture");
  await cp(path.join(dir, name), copy, { recursive: true, verbatimSymlinks: true, filter: (from) => path.basename(from) !== "expected" });
  const root = path.join(copy, "root");
  await mkdir(root, { recursive: true });
  await prepare?.(root);
  const config = path.join(copy, "run.yaml");
  await writeFile(config, withParent(await readFile(config, "utf8"), parent));
  await pointDockerfiles(root, parent);
  const options = existsSync(path.join(copy, "options.json"))
    ? (JSON.parse(await readFile(path.join(copy, "options.json"), "utf8")) as { python?: string; platform?: string; zenmlVersion?: string })
    : {};
  const flags = [
    ...(options.python ? ["--python", options.python] : []),
    ...(options.platform ? ["--platform", options.platform] : []),
    ...(options.zenmlVersion ? ["--zenml-version", options.zenmlVersion] : []),
  ];
  const c = await compileCase(name, work, config, root, flags, options);
  const plan = JSON.parse(await readFile(path.join(c.out, "plan.json"), "utf8")) as { registry?: string };
  if (plan.registry === undefined && !c.images.some((image) => image.parent.kind === "plan")) return c;
  // A stack's registry out of reach, or a parent BuildKit must pull: images named under the test registry.
  const registry = daemons.registry.host;
  return compileCase(name, work, config, root, [...flags, "--registry", registry], { ...options, registry });
}

async function compileCase(name: string, work: string, config: string, root: string, flags: string[], options: object): Promise<Case> {
  const env = { ...process.env, ...buildEnv };
  await writeSecretFiles(config);
  const out = path.join(work, "compiled");
  const result = await compileConfig({ configPath: config, out, root, pipeline: name, environment: env, ...options });
  if ("message" in result) throw new Error(result.message);
  if (!result.plan || hasErrors(result.diagnostics)) throw new Error(result.diagnostics.map(formatDiagnostic).join("\n"));
  await writePlan(result.compiler, result.plan, out, { backends: ["dockerfile"], mode: "buildkit" });
  return { name, config, root, flags: ["--root", root, "--pipeline", name, ...flags], env, images: result.plan.images.filter((i) => i.mode === "build"), out, work };
}

/** Every parent image of the configuration (the pipeline's, the steps') is the registry's base image. */
function withParent(text: string, parent: string): string {
  const doc = parseDocument(text);
  const docker = (at: (string | number)[]) => [...at, "settings", "docker"];
  const scopes = [[], ...Object.keys((doc.toJS() as { steps?: object }).steps ?? {}).map((step) => ["steps", step])];
  for (const scope of scopes) {
    const pipeline = scope.length === 0;
    const settings = doc.getIn(docker(scope)) as unknown;
    if (!pipeline && !doc.hasIn([...docker(scope), "parent_image"])) continue;
    if (settings === undefined || settings === null) doc.setIn(docker(scope), doc.createNode({}));
    if (!doc.hasIn([...docker(scope), "dockerfile"])) doc.setIn([...docker(scope), "parent_image"], parent);
  }
  return doc.toString();
}

/** User Dockerfiles in the root start from the base image too. */
async function pointDockerfiles(root: string, parent: string): Promise<void> {
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/Dockerfile/.test(entry.name)) continue;
    const file = path.join(entry.parentPath, entry.name);
    await writeFile(file, (await readFile(file, "utf8")).replace(/^(FROM\s+)\S+/gim, `$1${parent}`));
  }
}

/** The files of build secrets (`source_file`, relative to the configuration's folder), made up when missing. */
async function writeSecretFiles(config: string): Promise<void> {
  const files = [...(await readFile(config, "utf8")).matchAll(/source_file:\s*([^\s,}]+)/g)].map((m) => path.resolve(path.dirname(config), m[1]!));
  for (const file of files.filter((f) => !existsSync(f))) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, "machine pypi.example.com login ci password not-a-real-token\n");
  }
}

/** What one route gave: a view per image key, or the CLI's refusal (exit code and message). */
export type Outcome = { views: Map<string, View> } | { code: number; stderr: string };

/** Builds the case along `route` and reads back every image. */
export async function buildRoute(route: RouteName, c: Case, daemons: Daemons): Promise<Outcome> {
  const out = path.join(c.work, `out-${route}`);
  // Parents are resolved in the test registry, which speaks plain HTTP.
  const cli = (builder: string[], env: Env) => dockwrightBuild([c.config, ...builder, ...c.flags, "--insecure-registry", daemons.registry.host, "--out", out], env, c.work);
  const views = new Map<string, View>();
  const { buildah, docker } = daemons;
  switch (route) {
    case "script": {
      // --no-cache here and for Docker: a route builds its own image, never reuses one another route pushed or left in the store.
      const built = await cli(["--builder", "buildah", "--no-cache"], { ...c.env, ...buildah.env });
      if (built.code !== 0) return built;
      for (const image of c.images) views.set(image.key, await buildah.withRootfs(image.tag, async (root) => viewOf(await buildah.config(image.tag), root)));
      return { views };
    }
    case "bud": {
      for (const image of c.images) {
        // A user Dockerfile's image: the script's route is `buildah bud` of it already.
        if (image.parent.kind === "dockerfile") continue;
        const context = path.join(c.work, "bud", image.key);
        await stageContext(c.root, image.context.sources ?? { entries: [] }, image.context.generated, context, { writable: image.context.writable });
        const tag = `localhost/routes-bud/${c.name}-${image.key}:latest`;
        const { buildArgs, labels, target } = image.buildOptions;
        await buildah.ok(["bud", "--quiet", "--ignorefile", await neutralIgnoreFile(c.work), ...secretFlags(image, path.dirname(c.config)),
          ...buildArgs.flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]), ...labels.flatMap(([k, v]) => ["--label", `${k}=${v}`]),
          ...(target !== undefined ? ["--target", target] : []),
          "--file", path.join(c.out, image.key, "Dockerfile"), "--tag", tag, context], undefined, c.env);
        views.set(image.key, await buildah.withRootfs(tag, async (root) => viewOf(await buildah.config(tag), root)));
      }
      return { views };
    }
    case "docker-buildkit":
    case "docker-legacy": {
      const mode = route === "docker-buildkit" ? "buildkit" : "plain";
      const built = await cli(["--builder", "docker", "--docker", docker.bin, "--network", "host", "--mode", mode, "--no-cache"],
        { ...c.env, ...docker.env, DOCKER_BUILDKIT: mode === "buildkit" ? "1" : "0" });
      if (built.code !== 0) return built;
      for (const image of c.images) {
        const dir = path.join(c.work, route, image.key);
        await mkdir(dir, { recursive: true });
        await docker.ok(["save", "--output", path.join(dir, "image.tar"), image.tag]);
        const read = await unpackDockerArchive(path.join(dir, "image.tar"), dir);
        views.set(image.key, await viewOf(read.config, read.root));
      }
      return { views };
    }
    case "buildkit": {
      const oci = path.join(c.work, "oci");
      // No buildctl: the native client only.
      const built = await cli(["--builder", "buildkit", "--addr", daemons.buildkitd.address, "--oci", oci], { ...c.env, PATH: "/usr/bin:/bin", BUILDKIT_HOST: undefined });
      if (built.code !== 0) return built;
      for (const image of c.images) {
        // A parent of another image goes to the registry, not into a tarball; the child's tree holds it.
        if (c.images.some((other) => other.parent.kind === "plan" && other.parent.key === image.key)) continue;
        const read = await unpackOci(path.join(oci, `${image.key}.tar`), path.join(c.work, route, image.key));
        views.set(image.key, await viewOf(read.config, read.root));
      }
      return { views };
    }
  }
}

async function viewOf(config: ConfigView, root: string): Promise<View> {
  // The root folder's own mode is the reader's (Buildah's mount point, the folder a tarball is
  // unpacked into), not the image's.
  const tree = (await fileTree(root)).filter((entry) => entry.path !== ".");
  return { config, tree, records: await textFiles(path.join(root, "var/log/dockwright")) };
}
