/**
 * Folders of the build context reach the image as Docker's `COPY . .` creates them: an empty
 * `data/`, and `logs/` whose files are all excluded, exist in /app; a folder the .dockerignore
 * excludes does not. Built with `buildah bud` of the Dockerfile and with the Buildah script. The
 * source roots are made here: git keeps no empty folders.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lacks } from "../support/tools.ts";
import { baseImage } from "./support/base-image.ts";
import { buildahBaseImage, createBuildah, type Buildah } from "./support/buildah.ts";
import { dockwrightBuild, neutralIgnoreFile, prepareFixture, viewOf } from "./support/fixtures.ts";
import type { TreeEntry } from "./support/images.ts";

const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-e2e-folders-"));
let buildah: Buildah;

/** A source root with an empty `data/`, `logs/` holding only excluded files, and `secrets/`. */
async function sourceRoot(name: string, dockerignore: string): Promise<{ root: string; config: string }> {
  const dir = path.join(scratch, name);
  const root = path.join(dir, "root");
  for (const folder of ["data", "logs", "secrets"]) await mkdir(path.join(root, folder), { recursive: true });
  await writeFile(path.join(root, "app.py"), "print('hi')\n");
  await writeFile(path.join(root, "logs", "run.log"), "log\n");
  await writeFile(path.join(root, "secrets", "token"), "x\n");
  await writeFile(path.join(root, ".dockerignore"), dockerignore);
  const config = path.join(dir, "run.yaml");
  await writeFile(config, [
    "settings:",
    "  docker:",
    `    parent_image: ${baseImage}`,
    "    allow_including_files_in_images: true",
    "    allow_download_from_artifact_store: false",
    "    allow_download_from_code_repository: false",
    "",
  ].join("\n"));
  return { root, config };
}

/** /app of the image built by `buildah bud` and by the Buildah script, which must agree. */
async function build(name: string, dockerignore: string): Promise<TreeEntry[]> {
  const { root, config } = await sourceRoot(name, dockerignore);
  const fixture = await prepareFixture(name, path.join(scratch, name, "work"), { root, config });
  const budTag = `localhost/folders/${name}:bud`;
  await buildah.ok(["bud", "--quiet", "--ignorefile", await neutralIgnoreFile(scratch), "--file", path.join(fixture.folder, "Dockerfile"), "--tag", budTag, fixture.context]);
  const built = await dockwrightBuild([config, "--builder", "buildah", "--root", root, "--out", path.join(scratch, name, "out"), "--pipeline", name], buildah.env, scratch);
  expect(built.code, built.stderr).toBe(0);
  const app = async (tag: string) => buildah.withRootfs(tag, async (rootfs) => (await viewOf(await buildah.config(tag), rootfs, fixture.image)).app);
  const script = await app(fixture.image.tag);
  expect(await app(budTag)).toEqual(script);
  return script;
}

const folders = (app: TreeEntry[]) => app.filter((e) => e.type === "dir").map((e) => e.path);

describe.skipIf(lacks("buildah") || lacks("busybox"))("folders of the build context", () => {
  beforeAll(async () => {
    buildah = await createBuildah();
    await buildahBaseImage(buildah);
  }, 120_000);

  afterAll(async () => {
    await buildah?.destroy();
    await rm(scratch, { recursive: true, force: true });
  }, 120_000);

  it("an empty folder and one whose files are all excluded exist in /app; an excluded one does not", async () => {
    const app = await build("kept", "logs/*.log\nsecrets\n");
    expect(folders(app)).toEqual([".", "data", "logs"]);
    expect(app.filter((e) => e.type !== "dir").map((e) => e.path)).toEqual([".dockerignore", "app.py"]);
  }, 300_000);

  it("a folder the .dockerignore excludes is absent, empty or not", async () => {
    const app = await build("excluded", "data\nlogs\nsecrets\n");
    expect(folders(app)).toEqual(["."]);
  }, 300_000);
});
