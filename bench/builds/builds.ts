/**
 * Build times with real builders (run.mjs bundles and runs this file; see bench/README.md). The
 * end-to-end fixture `every-requirements-source` (apt, pip install uv, five requirements files, the
 * sources) on the test base image, whose stand-in installers sleep a fixed time per call, so that
 * what a cache skips shows as time. Per builder: a cold build, a rebuild after a one-file source
 * change, a rebuild after one requirement changed; each build through a fresh output folder, so
 * that only the builder's own cache can skip work. Then a pipeline of four independent images
 * (its own and three steps'), built with --jobs 1 and --jobs 4.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { buildahBaseImage, createBuildah, pushBaseImage } from "../../test/e2e/support/buildah.ts";
import { dockerBaseImage, dockerClient, startDocker } from "../../test/e2e/support/docker.ts";
import { dockwrightBuild, fixturesDir, neutralIgnoreFile, prepareFixture } from "../../test/e2e/support/fixtures.ts";
import { startBuildkitd } from "../../test/support/buildkitd.ts";
import { startRegistry } from "../../test/support/registry.ts";
import { lacks } from "../../test/support/tools.ts";

const fixture = "every-requirements-source";
const installSeconds = Number(process.env["DOCKWRIGHT_BENCH_INSTALL_SECONDS"] ?? "2");
/** Installer calls of a cold build: apt-get update and install, pip install uv, uv for each of five files. */
const coldCalls = 8;
const builderNames = ["buildah", "bud", "docker", "buildkit"] as const;
type BuilderName = (typeof builderNames)[number];
const chosen = (process.env["DOCKWRIGHT_BENCH_BUILDERS"]?.split(",") ?? builderNames) as BuilderName[];
const parallelOf = (process.env["DOCKWRIGHT_BENCH_PARALLEL"]?.split(",") ?? ["buildah", "buildkit"]) as BuilderName[];

const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-bench-builds-"));
let builds = 0;

/** A copy of the fixture: its configuration beside its root, the parent image named `parent`. */
type Project = { name: string; dir: string; root: string; config: string };

async function project(name: string, parent: string, aptPackage?: string): Promise<Project> {
  const dir = await mkdtemp(path.join(scratch, `${name}-`));
  await cp(path.join(fixturesDir, fixture), dir, { recursive: true });
  const config = path.join(dir, "run.yaml");
  let text = (await readFile(config, "utf8")).replaceAll("localhost/dockwright-test-base:latest", parent);
  // Independent images differ from their first installing layer on.
  if (aptPackage !== undefined) text = text.replace("apt_packages: [git]", `apt_packages: [git, ${aptPackage}]`);
  await writeFile(config, text);
  return { name, dir, root: path.join(dir, "root"), config };
}

/** The project's pipeline with three steps of their own packages: four images that share no installing layer. */
async function withSteps(p: Project, tag: string): Promise<Project> {
  const text = (await readFile(p.config, "utf8")).replace("apt_packages: [git]", `apt_packages: [git, ${tag}]`);
  const steps = [1, 2, 3].map((i) => `  step${i}: { settings: { docker: { apt_packages: [git, ${tag}-step${i}] } } }`);
  await writeFile(p.config, `${text}steps:\n${steps.join("\n")}\n`);
  return p;
}

/** One file of the sources changed. */
async function changeSource(p: Project): Promise<void> {
  const file = path.join(p.root, "pipelines/train.py");
  await writeFile(file, `${await readFile(file, "utf8")}# changed ${++builds}\n`);
}

/** One requirement of the user's list changed (its file is the last one installed). */
async function changeRequirement(p: Project): Promise<void> {
  const text = await readFile(p.config, "utf8");
  if (!text.includes("requirements: [pandas,")) throw new Error("the fixture's requirements changed; update the bench");
  await writeFile(p.config, text.replace("requirements: [pandas,", "requirements: [pandas==2.2.3,"));
}

/** A builder, ready: `build` builds the project once (compile, stage and build), `stop` removes it all. */
type Builder = { label: string; parent: string; build(p: Project, flags?: string[]): Promise<void>; stop(): Promise<void> };

/** `dockwright build` in process, into a fresh output folder; throws with its output when it fails. */
async function dockwright(p: Project, env: Record<string, string | undefined>, flags: string[]): Promise<void> {
  const out = await mkdtemp(path.join(p.dir, "out-"));
  const result = await dockwrightBuild([p.config, "--root", p.root, "--out", out, "--pipeline", p.name, ...flags], env, p.dir);
  if (result.code !== 0) throw new Error(`dockwright build ${flags.join(" ")} exited with ${result.code}:\n${result.stderr.slice(-4000)}`);
}

const setups: Record<BuilderName, () => Promise<Builder | string>> = {
  async buildah() {
    if (lacks("buildah", "busybox")) return "buildah or busybox is missing";
    const buildah = await createBuildah();
    await buildahBaseImage(buildah, { rootfs: { installSeconds } });
    return {
      label: "Buildah script (build.sh, layer cache)",
      parent: "localhost/dockwright-test-base:latest",
      build: (p, flags = []) => dockwright(p, buildah.env, ["--builder", "buildah", ...flags]),
      stop: () => buildah.destroy(),
    };
  },
  async bud() {
    if (lacks("buildah", "busybox")) return "buildah or busybox is missing";
    const buildah = await createBuildah();
    await buildahBaseImage(buildah, { rootfs: { installSeconds } });
    return {
      label: "buildah bud --layers (the Dockerfile)",
      parent: "localhost/dockwright-test-base:latest",
      async build(p) {
        // Compiled and staged as `dockwright build` does, then built by buildah's Dockerfile route.
        const work = await mkdtemp(path.join(p.dir, "bud-"));
        const staged = await prepareFixture(fixture, work, { root: p.root, config: p.config });
        const ignore = await neutralIgnoreFile(work);
        await buildah.ok(["bud", "--layers", "--quiet", "--ignorefile", ignore, "--file", path.join(staged.folder, "Dockerfile"), "--tag", staged.image.tag, staged.context]);
      },
      stop: () => buildah.destroy(),
    };
  },
  async docker() {
    const docker = await startDocker();
    if ("skip" in docker) return docker.skip;
    await dockerBaseImage(docker, { installSeconds });
    return {
      label: "Docker BuildKit (docker build, DOCKER_BUILDKIT=1)",
      parent: "localhost/dockwright-test-base:latest",
      build: (p) => dockwright(p, docker.env, ["--builder", "docker", "--docker", dockerClient, "--network", "host", "--mode", "buildkit"]),
      stop: () => docker.stop(),
    };
  },
  async buildkit() {
    if (lacks("buildkitd", "buildah", "busybox", "registry", "runc")) return "buildkitd, buildah, busybox, docker-registry or runc is missing";
    const registry = await startRegistry();
    const parent = await pushBaseImage(registry.host, { variant: { rootfs: { installSeconds } } });
    const daemon = await startBuildkitd({ registries: [registry.host] });
    return {
      label: "BuildKit from LLB (native client, buildkitd)",
      parent,
      // The parent is resolved in the test registry, which speaks plain HTTP.
      build: (p, flags = []) => dockwright(p, process.env, ["--builder", "buildkit", "--addr", daemon.address, "--insecure-registry", registry.host, ...flags]),
      async stop() {
        await daemon.stop();
        await registry.stop();
      },
    };
  },
};

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

const s = (seconds: number) => `${seconds.toFixed(1)} s`;
const rows: string[][] = [];
const parallelRows: string[][] = [];
const notes: string[] = [];

for (const name of new Set([...chosen, ...parallelOf])) {
  const builder = await setups[name]();
  if (typeof builder === "string") {
    notes.push(`${name}: skipped, ${builder}`);
    continue;
  }
  try {
    if (chosen.includes(name)) {
      const p = await project(`bench-${name}`, builder.parent);
      const cold = await timed(() => builder.build(p));
      await changeSource(p);
      const source = await timed(() => builder.build(p));
      await changeRequirement(p);
      const requirement = await timed(() => builder.build(p));
      rows.push([builder.label, s(cold), `${s(source)} (${(source / cold).toFixed(2)}x)`, `${s(requirement)} (${(requirement / cold).toFixed(2)}x)`]);
    }
    if (parallelOf.includes(name)) {
      // Eight different images, all cold: one pipeline's four built one at a time, another's four at once.
      const one = await withSteps(await project(`seq-${name}`, builder.parent), "seq");
      const four = await withSteps(await project(`par-${name}`, builder.parent), "par");
      const sequential = await timed(() => builder.build(one, ["--jobs", "1"]));
      const parallel = await timed(() => builder.build(four, ["--jobs", "4"]));
      parallelRows.push([builder.label, s(sequential), s(parallel), `${(sequential / parallel).toFixed(2)}x`]);
    }
  } catch (e) {
    // One builder failing leaves the others' figures.
    notes.push(`${name}: failed, ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await builder.stop();
  }
}
await rm(scratch, { recursive: true, force: true });

function table(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

console.log(`Fixture ${fixture}; each stand-in installer call sleeps ${installSeconds} s (a cold build makes ${coldCalls}: ${coldCalls * installSeconds} s of installing; ` +
  `a source change none, the user's requirements one, ${installSeconds} s). One run of each; ratios against the cold build.\n`);
console.log(table(["builder", "cold", "one source file changed", "one requirement changed"], rows));
if (parallelRows.length > 0) {
  console.log(`\nA pipeline of four independent images (its own and three steps'), cold, in one dockwright build\n`);
  console.log(table(["builder", "--jobs 1", "--jobs 4", "speed-up"], parallelRows));
}
for (const note of notes) console.log(note);
