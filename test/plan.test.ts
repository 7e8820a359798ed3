/**
 * The build plan: checksums change with every input that determines an image and with nothing
 * else; the build index survives concurrent writers; explain names what changed.
 */
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { cacheRecord, explainRebuild } from "@dockwright/core";
import { stringify } from "yaml";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { compileConfig } from "../packages/cli/src/pipeline.ts";
import { readBuildIndex } from "../packages/cli/src/build-index.ts";

const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-plan-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

let root: string;
let n = 0;
beforeEach(async () => {
  root = path.join(scratch, `root-${n++}`);
  await mkdir(path.join(root, "docker"), { recursive: true });
  await writeFile(path.join(root, "app.py"), "print('hi')\n");
  await writeFile(path.join(root, "notes.log"), "excluded\n");
  // The run configuration lives in the root (its relative paths start there) and stays out of the image.
  await writeFile(path.join(root, ".dockerignore"), "*.log\n*.yaml\n");
  await writeFile(path.join(root, "requirements.txt"), "numpy==1.26.4\n");
  await writeFile(path.join(root, "docker", "Dockerfile"), "FROM python:3.11-slim\n");
});

const settings = {
  parent_image: "python:3.11-slim",
  requirements: "requirements.txt",
  environment: { A: "1", B: "2" },
  build_config: { build_options: { pull: true, nocache: false } },
  allow_including_files_in_images: true,
  allow_download_from_code_repository: false,
  allow_download_from_artifact_store: false,
};

async function checksums(docker: Record<string, unknown> = settings, out = path.join(scratch, "out")): Promise<string[]> {
  const config = path.join(root, "run.yaml");
  await writeFile(config, stringify({ settings: { docker } }));
  const result = await compileConfig({ configPath: config, root, out, pipeline: "p" });
  if ("message" in result || !result.plan) throw new Error(JSON.stringify(result));
  return result.plan.images.map((image) => image.checksum);
}

describe("image checksums", () => {
  it("change with each input that determines the image", async () => {
    const base = await checksums();
    const changed = {
      "a setting": await checksums({ ...settings, environment: { A: "1", B: "3" } }),
      "the parent reference": await checksums({ ...settings, parent_image: "python:3.12-slim" }),
      "a requirements file's content": await (async () => {
        await writeFile(path.join(root, "requirements.txt"), "numpy==2.0.0\n");
        return checksums();
      })(),
      "a generated file (integrations)": await checksums({ ...settings, required_integrations: ["sklearn"] }),
      "an included source file": await (async () => {
        await writeFile(path.join(root, "app.py"), "print('bye')\n");
        return checksums();
      })(),
    };
    for (const [input, sums] of Object.entries(changed)) expect(sums, input).not.toEqual(base);
  });

  it("change with the Dockerfile of a parent build, for both images", async () => {
    const docker = { dockerfile: "docker/Dockerfile", apt_packages: ["git"], source_files: "ignore" };
    const before = await checksums(docker);
    await writeFile(path.join(root, "docker", "Dockerfile"), "FROM python:3.12-slim\n");
    const after = await checksums(docker);
    expect(after).toHaveLength(2);
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
  });

  it("stay the same when nothing that determines the image changes", async () => {
    const base = await checksums();
    // Environment order is the order of ENV values, which Docker evaluates in turn: it is part of the image.
    expect(await checksums({ ...settings, build_config: { build_options: { nocache: false, pull: true } } }), "map keys reordered").toEqual(base);
    expect(await checksums(settings, path.join(scratch, "elsewhere")), "another output folder").toEqual(base);
    await writeFile(path.join(root, "notes.log"), "changed, but excluded by .dockerignore\n");
    expect(await checksums(), "an excluded file").toEqual(base);
    expect(await checksums({ ...settings, prevent_build_reuse: true }), "prevent_build_reuse").toEqual(base);
  });

  it("ignore the source files when they are not included", async () => {
    const docker = { ...settings, allow_including_files_in_images: false };
    const base = await checksums(docker);
    await writeFile(path.join(root, "app.py"), "print('changed')\n");
    expect(await checksums(docker)).toEqual(base);
  });

  it("do not depend on where the source root is", async () => {
    const base = await checksums();
    const moved = `${root}-moved`;
    await cp(root, moved, { recursive: true });
    root = moved;
    expect(await checksums()).toEqual(base);
  });
});

describe("explain", () => {
  it("names the first layer that rebuilds and why", async () => {
    const compile = async () => {
      const config = path.join(root, "run.yaml");
      await writeFile(config, stringify({ settings: { docker: settings } }));
      const result = await compileConfig({ configPath: config, root, out: path.join(scratch, "explain-out"), pipeline: "p" });
      if ("message" in result || !result.plan) throw new Error("compile failed");
      return cacheRecord(result.plan.images[0]!);
    };
    const before = await compile();
    expect(explainRebuild(before, await compile())).toMatchObject({ verdict: "unchanged" });
    await writeFile(path.join(root, "app.py"), "print('changed')\n");
    expect(explainRebuild(before, await compile())).toEqual({ image: "orchestrator", verdict: "rebuild", from: 5, kind: "sources", reason: "the source files changed", layers: 2 });
    await writeFile(path.join(root, "requirements.txt"), "numpy==2.0.0\n");
    expect(explainRebuild(before, await compile())).toMatchObject({ from: 3, kind: "requirements", reason: "the file it installs changed", layers: 4 });
    expect(explainRebuild(undefined, before)).toEqual({ image: "orchestrator", verdict: "new" });
  });
});

describe("the build index", () => {
  it("keeps every record under two concurrent writers", async () => {
    const file = path.join(scratch, "index", "builds.jsonl");
    const writer = path.join(import.meta.dirname, "support", "append-builds.mjs");
    const run = (prefix: string) =>
      promisify(execFile)(process.execPath, [writer, file, prefix, "300"]);
    await Promise.all([run("a"), run("b")]);
    const index = await readBuildIndex(file);
    expect(index.size).toBe(600);
    expect((await readFile(file, "utf8")).split("\n").filter(Boolean)).toHaveLength(600);
  });

  it("skips a torn last line", async () => {
    const file = path.join(scratch, "torn.jsonl");
    await writeFile(file, `${JSON.stringify({ checksum: "sha256:a", tag: "t", builder: "buildah" })}\n{"checksum": "sha2`);
    expect([...(await readBuildIndex(file)).keys()]).toEqual(["sha256:a"]);
  });
});
