/**
 * `dockwright build --builder buildkit` on a real buildkitd, with no buildctl on PATH: an image of
 * the plan (llb.pb), a user Dockerfile through the Dockerfile frontend, the example pipeline (both
 * of its images; #17's "done means"), and a failing step.
 */
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushBaseImage } from "../e2e/support/buildah.ts";
import { dockwrightBuild, fixturesDir } from "../e2e/support/fixtures.ts";
import { fileTree } from "../e2e/support/images.ts";
import { startBuildkitd, type Buildkitd } from "../support/buildkitd.ts";
import { startRegistry, type Registry } from "../support/registry.ts";
import { lacks } from "../support/tools.ts";
import { unpackOci } from "./support/oci.ts";

const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-buildkit-cli-"));
/** No buildctl here: it lives in /usr/local/bin. */
const env = { ...process.env, PATH: "/usr/bin:/bin", BUILDKIT_HOST: undefined };

describe.skipIf(lacks("buildkitd", "buildah", "registry", "runc"))("dockwright build --builder buildkit", () => {
  let registry: Registry;
  let daemon: Buildkitd;
  let parent: string;

  beforeAll(async () => {
    registry = await startRegistry();
    parent = await pushBaseImage(registry.host);
    daemon = await startBuildkitd({ registries: [registry.host] });
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    await registry?.stop();
    await rm(scratch, { recursive: true, force: true });
  }, 60_000);

  /**
   * A copy of a fixture with its parent image in the test registry; the configuration stays beside
   * its root, as its paths are relative to its own folder.
   */
  async function copyFixture(from: string, name: string): Promise<{ config: string; root: string }> {
    const dir = path.join(scratch, name);
    await cp(from, dir, { recursive: true });
    const config = path.join(dir, "run.yaml");
    for (const file of [config, path.join(dir, "root", "docker", "base.Dockerfile")]) {
      if (existsSync(file)) await writeFile(file, (await readFile(file, "utf8")).replaceAll("localhost/dockwright-test-base:latest", parent));
    }
    return { config, root: path.join(dir, "root") };
  }

  it("builds an image's llb.pb into an OCI tarball, progress on standard error", async () => {
    const { config, root } = await copyFixture(path.join(fixturesDir, "every-requirements-source"), "llb");
    const oci = path.join(scratch, "llb-oci");
    const built = await dockwrightBuild([config, "--builder", "buildkit", "--addr", daemon.address, "--root", root, "--out", path.join(scratch, "llb-out"), "--oci", oci, "--pipeline", "llb", "--insecure-registry", registry.host], env, scratch);
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout).toMatch(/: built with buildkit\n$/);
    expect(built.stderr).toMatch(/^#\d+ RUN .*pip install .*: DONE \d+\.\ds$/m);
    const [tarball] = await readdir(oci);
    const image = await unpackOci(path.join(oci, tarball!), path.join(scratch, "llb-image"));
    expect(await readFile(path.join(image.root, "app/pipelines/train.py"), "utf8")).toContain("print");
  }, 300_000);

  it("builds a user Dockerfile through the Dockerfile frontend, the session serving its context", async () => {
    const { config, root } = await copyFixture(path.join(fixturesDir, "commands", "dockerfile-parent"), "dockerfile");
    // Nothing on top of the Dockerfile: its image is the result.
    const text = (await readFile(config, "utf8")).replace(/^ {4}(environment|requirements):.*\n/gm, "");
    await writeFile(config, text.replace("    dockerfile:", "    install_stack_requirements: false\n    dockerfile:"));
    const oci = path.join(scratch, "dockerfile-oci");
    const built = await dockwrightBuild([config, "--builder", "buildkit", "--addr", daemon.address, "--root", root, "--out", path.join(scratch, "dockerfile-out"), "--oci", oci, "--pipeline", "dockerfile", "--insecure-registry", registry.host], env, scratch);
    expect(built.code, built.stderr).toBe(0);
    const [tarball] = await readdir(oci);
    const image = await unpackOci(path.join(oci, tarball!), path.join(scratch, "dockerfile-image"));
    expect(await readFile(path.join(image.root, "opt/greeting"), "utf8")).toBe("hi there\n");
    expect((await fileTree(path.join(image.root, "opt/context"))).map((e) => e.path)).toEqual([".", ".dockerignore", "base.Dockerfile", "marker.txt"]);
  }, 300_000);

  it("builds the example pipeline, both of its images, with no buildctl on PATH (#17)", async () => {
    expect(["/usr/bin/buildctl", "/bin/buildctl"].filter((file) => existsSync(file))).toEqual([]);
    const example = path.join(scratch, "example");
    await cp(path.join(import.meta.dirname, "..", "..", "examples", "training-pipeline"), example, { recursive: true });
    // python:3.11-slim is out of reach here: the base image with the stand-in installers instead.
    const config = path.join(example, "training.yaml");
    await writeFile(config, (await readFile(config, "utf8")).replace("parent_image: python:3.11-slim", `parent_image: ${parent}`));
    const oci = path.join(scratch, "example-oci");
    const built = await dockwrightBuild([config, "--builder", "buildkit", "--addr", daemon.address, "--out", path.join(scratch, "example-out"), "--oci", oci, "--insecure-registry", registry.host], env, example);
    expect(built.code, built.stderr).toBe(0);
    const tags = built.stdout.trim().split("\n").map((line) => line.replace(/: built with buildkit$/, ""));
    expect(tags).toHaveLength(2);
    expect((await readdir(oci)).sort()).toEqual(["orchestrator.tar", "trainer.orchestrator.tar"]);
    for (const key of ["orchestrator", "trainer.orchestrator"]) {
      const image = await unpackOci(path.join(oci, `${key}.tar`), path.join(scratch, `example-image-${key}`));
      const app = (await fileTree(path.join(image.root, "app"))).map((e) => e.path);
      // The sources, filtered by the example's .dockerignore (data/ stays out), and the generated files.
      expect(app).toEqual(expect.arrayContaining(["run.py", "steps/train.py", "steps/load.py", ".dockerignore"]));
      expect(app.filter((file) => file.startsWith("data"))).toEqual([]);
      expect(image.config.Env).toEqual(expect.arrayContaining(["PYTHONUNBUFFERED=1", "MODEL_NAME=churn-classifier"]));
      // The trainer step's own settings.
      expect(image.config.Env.includes("TORCH_NUM_THREADS=2")).toBe(key === "trainer.orchestrator");
      const calls = await readFile(path.join(image.root, "var/log/dockwright/calls"), "utf8");
      expect(calls).toContain("apt-get install -y --no-install-recommends libgomp1");
      expect(calls).toMatch(/-r \/app\/\.zenml_user_requirements/);
      const requirements = await readdir(path.join(image.root, "var/log/dockwright/requirements"));
      const user = requirements.find((file) => file.endsWith("zenml_user_requirements"))!;
      expect(await readFile(path.join(image.root, "var/log/dockwright/requirements", user), "utf8")).toContain("pyarrow==15.0.2");
    }
  }, 600_000);

  it("exits 1 with the failing step's log and the daemon's error", async () => {
    const { config, root } = await copyFixture(path.join(fixturesDir, "commands", "failing"), "failing");
    const built = await dockwrightBuild([config, "--builder", "buildkit", "--addr", daemon.address, "--root", root, "--out", path.join(scratch, "failing-out"), "--pipeline", "failing", "--insecure-registry", registry.host], env, scratch);
    expect(built.code).toBe(1);
    expect(built.stderr).toMatch(/^#\d+ RUN .*: ERROR .*exit code: 3\n#\d+ \| installing the project$/m);
    expect(built.stderr).toMatch(/dockwright: the build failed: .*did not complete successfully: exit code: 3\n/);
  }, 300_000);

  it("says so when no daemon answers", async () => {
    const built = await dockwrightBuild([path.join(fixturesDir, "commands", "failing", "run.yaml"), "--builder", "buildkit", "--addr", `unix://${scratch}/none.sock`,
      "--root", path.join(fixturesDir, "commands", "failing", "root"), "--out", path.join(scratch, "none-out"), "--pipeline", "none"], env, scratch);
    expect(built.code).toBe(1);
    expect(built.stderr).toMatch(/dockwright: lost the connection to buildkitd at unix:\/\/.*none\.sock .*Is buildkitd running there/);
  }, 60_000);
});
