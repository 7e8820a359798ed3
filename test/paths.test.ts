/**
 * Paths: every file or folder a setting names (requirements file and its `-r` includes,
 * Dockerfile, .dockerignore files, build context root, pyproject) must lie inside the source root.
 * Absolute paths, `..` and symlinks that lead outside are rejected with a diagnostic naming the
 * setting, through the CLI's pipeline and its node host; nothing outside the root is ever read.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { formatDiagnostic, type Diagnostic } from "@dockwright/core";
import { afterAll, describe, expect, test } from "vitest";
import { compileConfig } from "../packages/cli/src/pipeline.ts";

const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-paths-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

const root = path.join(scratch, "root");
const outside = path.join(scratch, "outside");
for (const dir of [root, path.join(root, "ctx"), path.join(root, "docker"), outside, path.join(outside, "ctx")]) await mkdir(dir, { recursive: true });
const files: Record<string, string> = {
  "root/requirements.txt": "numpy\n",
  "root/includes-outside.txt": "numpy\n-r ../outside/requirements.txt\n",
  "root/Dockerfile": "FROM python:3.11-slim\n",
  "root/docker/.dockerignore": "*.pyc\n",
  "root/..dots.txt": "numpy\n",
  "root/pyproject.toml": "[project]\nname = 'x'\n",
  "outside/requirements.txt": "stolen\n",
  "outside/Dockerfile": "FROM scratch\n",
  "outside/.dockerignore": "*\n",
  "outside/pyproject.toml": "[project]\nname = 'stolen'\n",
};
for (const [file, text] of Object.entries(files)) await writeFile(path.join(scratch, file), text);
// Links from inside the root: to a file outside, to a folder outside, and one that stays inside.
await symlink(path.join(outside, "requirements.txt"), path.join(root, "link-out.txt"));
await symlink(outside, path.join(root, "dir-out"));
await symlink("requirements.txt", path.join(root, "link-in.txt"));

let count = 0;
async function compile(docker: Record<string, unknown>): Promise<Diagnostic[]> {
  const name = `case-${count++}`;
  const configPath = path.join(scratch, `${name}.yaml`);
  const settings = { parent_image: "python:3.11-slim", allow_download_from_artifact_store: false, allow_download_from_code_repository: false, ...docker };
  await writeFile(configPath, JSON.stringify({ settings: { docker: settings } }));
  const result = await compileConfig({ configPath, root, out: path.join(scratch, `${name}-out`) });
  if ("message" in result) throw new Error(result.message);
  return result.diagnostics.filter((d) => d.severity === "error");
}

/** The ways out of the root, for a setting that names a file (or, for folders, `dir-out` and `..`). */
const escapes = [path.join(outside, "requirements.txt"), "../outside/requirements.txt", "ctx/../../outside/requirements.txt", "link-out.txt", "dir-out/requirements.txt"];
const outsideOf = (file: string) => escapes.map((p) => p.replace("requirements.txt", file));

const rejected = (setting: string) => [expect.objectContaining({ code: "INVALID_PATH", path: `settings.docker.${setting}`, message: expect.stringContaining("outside the source root") })];

describe("a path that leads outside the source root is rejected", () => {
  test.each(escapes)("requirements file %s", async (p) => {
    expect(await compile({ requirements: p, allow_including_files_in_images: false })).toEqual(rejected("requirements"));
  });

  test("a requirements file that includes one outside (-r ../...)", async () => {
    const errors = await compile({ requirements: "includes-outside.txt", allow_including_files_in_images: false });
    expect(errors.map((d) => d.code)).toContain("INVALID_PATH");
    expect(errors.map(formatDiagnostic).join("\n")).toContain("outside the source root");
  });

  test.each(outsideOf("Dockerfile"))("Dockerfile %s", async (p) => {
    expect(await compile({ dockerfile: p })).toEqual(rejected("dockerfile"));
  });

  test.each(outsideOf(".dockerignore"))("build_config.dockerignore %s", async (p) => {
    expect(await compile({ build_config: { dockerignore: p } })).toEqual(rejected("build_config.dockerignore"));
  });

  test.each(outsideOf(".dockerignore"))("parent_image_build_config.dockerignore %s", async (p) => {
    expect(await compile({ dockerfile: "Dockerfile", build_context_root: "ctx", parent_image_build_config: { dockerignore: p } }))
      .toEqual(rejected("parent_image_build_config.dockerignore"));
  });

  test.each([outside, "..", "ctx/../..", "../outside/ctx", "dir-out", "dir-out/ctx"])("build_context_root %s", async (p) => {
    expect(await compile({ dockerfile: "Dockerfile", build_context_root: p })).toEqual(rejected("build_context_root"));
  });

  const pyprojects = outsideOf("pyproject.toml");
  test.each(pyprojects.slice(0, 3))("pyproject_path %s", async (p) => {
    expect(await compile({ pyproject_path: p, allow_including_files_in_images: false })).toEqual(rejected("pyproject_path"));
  });

  // Found by this suite: the pyproject's path was once checked without resolving links.
  test.each(pyprojects.slice(3))("pyproject_path %s (a link out of the root)", async (p) => {
    expect(await compile({ pyproject_path: p, allow_including_files_in_images: false })).toEqual(rejected("pyproject_path"));
  });
});

describe("paths inside the root are read", () => {
  test("files, a link that stays inside, `..` that stays inside, and a name that starts with `..`", async () => {
    for (const requirements of ["requirements.txt", "./requirements.txt", "ctx/../requirements.txt", "link-in.txt", path.join(root, "requirements.txt"), "..dots.txt"]) {
      expect(await compile({ requirements, allow_including_files_in_images: false }), requirements).toEqual([]);
    }
  });

  test("a Dockerfile with its build context root and ignore files", async () => {
    expect(await compile({ dockerfile: "Dockerfile", build_context_root: "ctx", parent_image_build_config: { dockerignore: "docker/.dockerignore" } })).toEqual([]);
    expect(await compile({ build_config: { dockerignore: "docker/.dockerignore" } })).toEqual([]);
  });

  test("a build context root that does not exist, or is a file, is an error", async () => {
    expect(await compile({ dockerfile: "Dockerfile", build_context_root: "missing" })).toEqual([
      expect.objectContaining({ code: "FILE_NOT_FOUND", path: "settings.docker.build_context_root" }),
    ]);
    expect(await compile({ dockerfile: "Dockerfile", build_context_root: "Dockerfile" })).toEqual([
      expect.objectContaining({ code: "INVALID_PATH", path: "settings.docker.build_context_root" }),
    ]);
  });
});
