/**
 * The Buildah script's layer cache, with real builds (`dockwright build --builder buildah`): a
 * change of one source file re-runs only the sources step and ZenML's permissions step after it;
 * a change of the user's requirements re-runs that requirements step and what follows;
 * `--no-cache` builds everything, to the same image. Which commands ran is read from a wrapper around buildah that logs each call, and from
 * the stand-in installers' records in the image: a record that no command rewrote keeps its time.
 */
import { cp, lstat, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shellQuote } from "@dockwright/core";
import { lacks, toolPath } from "../support/tools.ts";
import { buildahBaseImage, createBuildah, type Buildah } from "./support/buildah.ts";
import { dockwrightBuild, fixturesDir, viewOf, type ImageView } from "./support/fixtures.ts";
import { compileConfig } from "../../packages/cli/src/pipeline.ts";

const name = "every-requirements-source";
const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-e2e-buildah-cache-"));
const root = path.join(scratch, "root");
const config = path.join(scratch, "run.yaml");
/** A buildah that logs each call's arguments, one line each, to $BUILDAH_CALLS. */
const wrapper = path.join(scratch, "buildah-logged");
let buildah: Buildah;
let builds = 0;
const timings: string[] = [];

type Build = { calls: string[]; view: ImageView; times: Record<string, number>; tag: string };

/** Builds the (modified) copy of the fixture; the buildah calls, the image, the installers' record times. */
async function build(...flags: string[]): Promise<Build> {
  const n = ++builds;
  const log = path.join(scratch, `calls-${n}`);
  await writeFile(log, "");
  const start = performance.now();
  // A fresh output folder: no build index, so the script itself decides what to reuse.
  const built = await dockwrightBuild([config, "--builder", "buildah", "--buildah", wrapper, "--root", root, "--out", path.join(scratch, `out-${n}`), "--pipeline", name, ...flags],
    { ...buildah.env, BUILDAH_CALLS: log }, scratch);
  timings.push(`build ${n}${flags.length > 0 ? ` (${flags.join(" ")})` : ""}: ${((performance.now() - start) / 1000).toFixed(1)} s`);
  expect(built.code, built.stderr).toBe(0);
  const result = await compileConfig({ configPath: config, out: path.join(scratch, `out-${n}`), root, pipeline: name });
  if ("message" in result || !result.plan) throw new Error("the fixture does not compile");
  const image = result.plan.images[0]!;
  const { view, times } = await buildah.withRootfs(image.tag, async (rootfs) => {
    const view = await viewOf(await buildah.config(image.tag), rootfs, image);
    const found: Record<string, number> = {};
    for (const file of Object.keys(view.records)) found[file] = (await lstat(path.join(rootfs, "var/log/dockwright", file))).mtimeMs;
    return { view, times: found };
  });
  return { calls: (await readFile(log, "utf8")).trim().split("\n"), view, times, tag: image.tag };
}

/** The commands `buildah run` ran, by what they install (or change: ZenML's chmod after the sources). */
const ran = (b: Build) => b.calls.filter((c) => c.startsWith("run ")).map((c) => /-r \/app\/(\S+)|apt-get install|pip install uv|chmod a\+rw/.exec(c)?.[0] ?? c);

let cold: Build;

describe.skipIf(lacks("buildah") || lacks("busybox"))("the Buildah script's layer cache", () => {
  beforeAll(async () => {
    buildah = await createBuildah();
    await buildahBaseImage(buildah);
    await cp(path.join(fixturesDir, name, "root"), root, { recursive: true });
    await cp(path.join(fixturesDir, name, "run.yaml"), config);
    // The real buildah by its path: `dockwright build --buildah` puts a `buildah` on PATH that runs this wrapper.
    await writeFile(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >>"$BUILDAH_CALLS"\nexec ${shellQuote(toolPath("buildah")!)} "$@"\n`, { mode: 0o755 });
    // The records' times must be able to differ between builds.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    cold = await build();
  }, 300_000);

  afterAll(async () => {
    await buildah?.destroy();
    await rm(scratch, { recursive: true, force: true });
    console.log(`e2e Buildah script cache build times:\n  ${timings.join("\n  ")}`);
  }, 120_000);

  it("a cold build runs every install and commits each step under the cache's prefix", () => {
    expect(ran(cold)).toEqual([
      "apt-get install",
      "pip install uv",
      "-r /app/.zenml_local_requirements",
      "-r /app/.zenml_stack_integration_requirements",
      "-r /app/.zenml_integration_requirements",
      "-r /app/.zenml_pyproject_requirements",
      "-r /app/.zenml_user_requirements",
      "chmod a+rw",
    ]);
    const commits = cold.calls.filter((c) => c.startsWith("commit --quiet --rm "));
    expect(commits).toHaveLength(9); // apt, the installer, five requirements files, the sources, the permissions
    for (const commit of commits) expect(commit).toMatch(/ localhost\/dockwright-cache:[0-9a-f]{64}-[0-9a-f]{12}$/);
  });

  it("after a change of one source file, only the sources step runs, and the permissions step after it", async () => {
    await writeFile(path.join(root, "pipelines", "train.py"), 'print("pipeline, changed")\n');
    const after = await build();
    expect(ran(after)).toEqual(["chmod a+rw"]);
    expect(after.calls.filter((c) => c.startsWith("copy ")).map((c) => c.split(" ").at(-1))).toEqual(["."]);
    // No installer wrote its records again.
    expect(after.times).toEqual(cold.times);
    expect(after.view.records).toEqual(cold.view.records);
    expect(after.view.app.find((e) => e.path === "pipelines/train.py")?.content).not.toBe(cold.view.app.find((e) => e.path === "pipelines/train.py")?.content);
  }, 300_000);

  it("after a change of the user's requirements, that step and those after it run", async () => {
    await writeFile(config, (await readFile(config, "utf8")).replace("requirements: [pandas,", "requirements: [pandas, polars,"));
    const after = await build();
    expect(ran(after)).toEqual(["-r /app/.zenml_user_requirements", "chmod a+rw"]);
    // The records of the four files installed before the user's are the cached ones.
    const record = (n: number) => Object.keys(after.times).find((file) => file.startsWith(`requirements/${n}-`))!;
    for (const n of [1, 2, 3, 4]) {
      expect(after.times[record(n)], `requirements file ${n}`).toBeDefined();
      expect(after.times[record(n)], record(n)).toBe(cold.times[record(n)]);
    }
    expect(after.times[record(5)], record(5)).not.toBe(cold.times[record(5)]);
    expect(after.view.records["requirements/5-.zenml_user_requirements"]).toContain("polars");
  }, 300_000);

  it("--no-cache builds every layer, to the same image as the cached build", async () => {
    const cached = await build();
    expect(ran(cached)).toEqual([]);
    expect(cached.calls.filter((c) => c.startsWith("from "))).toEqual([]); // the finished image is cached too
    const fresh = await build("--no-cache");
    expect(ran(fresh)).toHaveLength(8);
    // No cached layer is committed, looked up or tagged; the image gets its content tag as every built image does.
    const contentTag = / \S+:dockwright-[0-9a-f]{64}$/;
    expect(fresh.calls.filter((c) => c.startsWith("commit --quiet") || c.startsWith("inspect ") || (c.startsWith("tag ") && !contentTag.test(c)))).toEqual([]);
    expect(fresh.view).toEqual(cached.view);
  }, 300_000);
});
