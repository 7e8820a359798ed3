/**
 * Layer caching with real builds (`buildah bud --layers`): a source change rebuilds only the
 * sources layer; a change of the user's requirements keeps the apt and local-environment layers.
 * And the image holds each source file once: no layer rewrites the sources.
 */
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildahBaseImage, createBuildah, type Buildah } from "./support/buildah.ts";
import { fixturesDir, neutralIgnoreFile, prepareFixture } from "./support/fixtures.ts";
import { lacks } from "../support/tools.ts";

const noBuildah = lacks("buildah", "busybox");
const name = "every-requirements-source";
const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-e2e-cache-"));
const root = path.join(scratch, "root");
const config = path.join(scratch, "run.yaml");
let buildah: Buildah;
let builds = 0;
const timings: string[] = [];

type Step = { instruction: string; cached: boolean };

/** Compiles the (modified) copy of the fixture and builds it with `buildah bud --layers`; its steps. */
async function build(): Promise<{ tag: string; steps: Step[] }> {
  const work = path.join(scratch, `build-${++builds}`);
  const fixture = await prepareFixture(name, work, { root, config });
  const tag = `localhost/cache/${name}:${builds}`;
  const start = performance.now();
  const output = await buildah.ok(["bud", "--layers", "--ignorefile", await neutralIgnoreFile(work), "--file", path.join(fixture.folder, "Dockerfile"), "--tag", tag, fixture.context]);
  timings.push(`build ${builds}: ${((performance.now() - start) / 1000).toFixed(1)} s`);
  return { tag, steps: stepsOf(output) };
}

/** Buildah prints `STEP i/n: INSTRUCTION`, then `--> Using cache <id>` when it reuses the layer. */
function stepsOf(output: string): Step[] {
  const lines = output.split("\n");
  return lines.flatMap((line, i) => {
    const step = /^STEP \d+\/\d+: (.*)$/.exec(line);
    return step ? [{ instruction: step[1]!, cached: lines[i + 1]?.startsWith("--> Using cache ") === true }] : [];
  });
}

/** Steps from the first one matching `rebuilt`: those before are reused, it and those after are not. */
function expectRebuiltFrom(steps: Step[], rebuilt: RegExp): void {
  const first = steps.findIndex((step) => rebuilt.test(step.instruction));
  expect(first, `no step matches ${rebuilt}`).toBeGreaterThan(1);
  // Step 1 is FROM, which buildah never reports as cached.
  expect(steps.slice(1, first).filter((step) => !step.cached)).toEqual([]);
  expect(steps.slice(first).filter((step) => step.cached)).toEqual([]);
}

beforeAll(async () => {
  if (noBuildah) return;
  buildah = await createBuildah();
  await buildahBaseImage(buildah);
  await cp(path.join(fixturesDir, name, "root"), root, { recursive: true });
  await cp(path.join(fixturesDir, name, "run.yaml"), config);
  await build();
}, 300_000);

afterAll(async () => {
  await buildah?.destroy();
  await rm(scratch, { recursive: true, force: true });
  console.log(`e2e cache build times (buildah bud --layers):\n  ${timings.join("\n  ")}`);
}, 120_000);

describe.skipIf(noBuildah)("buildah bud --layers", () => {
  it("after a change of one source file, reuses every layer before the sources", async () => {
    await writeFile(path.join(root, "pipelines", "train.py"), 'print("pipeline, changed")\n');
    const { steps } = await build();
    // FROM, WORKDIR, apt, a COPY and RUN per requirements file, ZenML's variables, then the
    // sources and what ZenML does to them.
    expect(steps.length).toBeGreaterThan(10);
    expect(steps.slice(-2).map((s) => s.instruction)).toEqual(["COPY . .", "RUN find . ! -type l ! -perm -0666 -exec chmod a+rw {} +"]);
    expectRebuiltFrom(steps, /^COPY \. \.$/);
  }, 300_000);

  it("after a change of the user's requirements only, reuses the layers of every file installed before", async () => {
    await writeFile(config, (await readFile(config, "utf8")).replace("requirements: [pandas,", "requirements: [pandas, polars,"));
    const { steps } = await build();
    const rebuilt = steps.findIndex((step) => step.instruction.includes(".zenml_user_requirements"));
    expect(steps.slice(0, rebuilt).map((s) => s.instruction)).toEqual([
      "FROM localhost/dockwright-test-base:latest",
      "WORKDIR /app",
      expect.stringMatching(/^RUN .*apt-get install -y --no-install-recommends git/),
      expect.stringMatching(/^RUN .*pip install uv$/),
      ...["local", "stack_integration", "integration", "pyproject"].flatMap((origin) => [
        `COPY .zenml_${origin}_requirements /app/.zenml_${origin}_requirements`,
        expect.stringMatching(new RegExp(`^RUN .*uv pip install -r /app/\\.zenml_${origin}_requirements$`)),
      ]),
    ]);
    expectRebuiltFrom(steps, /^COPY \.zenml_user_requirements /);
  }, 300_000);

  it("holds each source file once, ZenML's chmod included", async () => {
    const big = randomBytes(3 * 1024 * 1024);
    await writeFile(path.join(root, "pipelines", "weights.bin"), big);
    const { tag } = await build();
    const inspected = JSON.parse(await buildah.ok(["inspect", "--type", "image", tag])) as { Manifest: string };
    const layers = (JSON.parse(inspected.Manifest) as { layers: { size: number }[] }).layers.map((l) => l.size);
    // Layer 0 is the base image; the rest is what the build added, as uncompressed tar.
    const added = layers.slice(1).reduce((sum, size) => sum + size, 0);
    expect(added).toBeGreaterThan(big.length);
    expect(added).toBeLessThan(big.length * 1.1);
  }, 300_000);
});
