/**
 * Paths that settings name (requirements file and its `-r` includes, Dockerfile, .dockerignore
 * files, build context root, pyproject) may be absolute or relative, and may lie outside the
 * source root, as in ZenML: relative paths start at the configuration file's folder (ZenML's
 * working directory). What such a file holds becomes a generated file or a build's input; the
 * source root's own files still reach the image only through the context's rules.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Diagnostic } from "@dockwright/core";
import { afterAll, describe, expect, test } from "vitest";
import { compileConfig } from "../packages/cli/src/pipeline.ts";
import { writePlan } from "../packages/cli/src/output.ts";

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
  "root/..dots.txt": "pandas\n",
  "outside/requirements.txt": "from-outside\n",
  "outside/Dockerfile": "FROM python:3.12-slim\n",
  "outside/.dockerignore": "secret.txt\n",
  "outside/pyproject.toml": "[project]\nname = 'outside'\n",
  "outside/ctx/file.txt": "",
};
for (const [file, text] of Object.entries(files)) await writeFile(path.join(scratch, file), text);
// Links from inside the root: to a file outside, to a folder outside, and one that stays inside.
await symlink(path.join(outside, "requirements.txt"), path.join(root, "link-out.txt"));
for (const file of ["Dockerfile", ".dockerignore", "pyproject.toml"]) await symlink(path.join(outside, file), path.join(root, `link-out-${file}`));
await symlink(outside, path.join(root, "dir-out"));
await symlink("requirements.txt", path.join(root, "link-in.txt"));

let count = 0;
/** Compiles with the configuration file in `configDir` (default: the source root). */
async function compile(docker: Record<string, unknown>, configDir = root) {
  const name = `case-${count++}`;
  const configPath = path.join(configDir, `${name}.yaml`);
  const settings = { parent_image: "python:3.11-slim", allow_download_from_artifact_store: false, allow_download_from_code_repository: false, ...docker };
  await writeFile(configPath, JSON.stringify({ settings: { docker: settings } }));
  const out = path.join(scratch, `${name}-out`);
  const result = await compileConfig({ configPath, root, out });
  await rm(configPath);
  if ("message" in result) throw new Error(result.message);
  const errors = result.diagnostics.filter((d: Diagnostic) => d.severity === "error");
  if (result.plan) await writePlan(result.compiler, result.plan, out, { backends: ["dockerfile"], mode: "buildkit" });
  return { errors, plan: result.plan, out };
}

const generated = (plan: Awaited<ReturnType<typeof compile>>["plan"], file: string) =>
  plan?.images.at(-1)?.context.generated.find((g) => g.path === file)?.contents;

/** The ways to a file outside the root, from a configuration file in the root. */
const outsidePaths = [path.join(outside, "requirements.txt"), "../outside/requirements.txt", "ctx/../../outside/requirements.txt", "link-out.txt", "dir-out/requirements.txt"];
const outsideOf = (file: string) => outsidePaths.map((p) => (p === "link-out.txt" ? `link-out-${file}` : p.replace("requirements.txt", file)));

describe("a path outside the source root is read, as ZenML reads it", () => {
  test.each(outsidePaths)("requirements file %s", async (p) => {
    const { errors, plan } = await compile({ requirements: p });
    expect(errors).toEqual([]);
    expect(generated(plan, ".zenml_user_requirements")).toBe("from-outside\n");
  });

  test("a requirements file that includes one outside (-r ../...): the include is inlined", async () => {
    const { errors, plan } = await compile({ requirements: "includes-outside.txt" });
    expect(errors).toEqual([]);
    expect(generated(plan, ".zenml_user_requirements")).toBe("numpy\nfrom-outside\n");
  });

  test.each(outsideOf("Dockerfile"))("Dockerfile %s, with the build context root beside it", async (p) => {
    const { errors, plan } = await compile({ dockerfile: p, build_context_root: path.join(outside, "ctx") });
    expect(errors).toEqual([]);
    expect(plan?.images[0]?.parent).toMatchObject({ kind: "dockerfile", path: p, contextRoot: path.join(outside, "ctx") });
  });

  test.each(outsideOf(".dockerignore"))("build_config.dockerignore %s", async (p) => {
    const { errors, plan } = await compile({ allow_including_files_in_images: true, build_config: { dockerignore: p } });
    expect(errors).toEqual([]);
    // ZenML adds `!/.zen` to every .dockerignore.
    expect(plan?.images[0]?.context.dockerignore).toEqual(["secret.txt", "!.zen"]);
  });

  test.each(outsideOf("pyproject.toml").slice(0, 3))("pyproject_path %s is where the export command runs", async (p) => {
    const { errors } = await compile({ pyproject_path: p, pyproject_export_command: ["true"] });
    expect(errors).toEqual([]);
  });
});

describe("relative paths start at the configuration file's folder", () => {
  test("a configuration file outside the root names files beside it", async () => {
    const { errors, plan } = await compile({ requirements: "requirements.txt" }, outside);
    expect(errors).toEqual([]);
    expect(generated(plan, ".zenml_user_requirements")).toBe("from-outside\n");
  });

  test("files, a link that stays inside, `..` that stays inside, and a name that starts with `..`", async () => {
    for (const [requirements, text] of [["requirements.txt", "numpy\n"], ["./requirements.txt", "numpy\n"], ["ctx/../requirements.txt", "numpy\n"], ["link-in.txt", "numpy\n"], [path.join(root, "requirements.txt"), "numpy\n"], ["..dots.txt", "pandas\n"]]) {
      const { errors, plan } = await compile({ requirements });
      expect(errors, requirements).toEqual([]);
      expect(generated(plan, ".zenml_user_requirements"), requirements).toBe(text);
    }
  });

  test("a Dockerfile with its build context root and ignore files", async () => {
    expect((await compile({ dockerfile: "Dockerfile", build_context_root: "ctx", parent_image_build_config: { dockerignore: "docker/.dockerignore" } })).errors).toEqual([]);
    expect((await compile({ build_config: { dockerignore: "docker/.dockerignore" } })).errors).toEqual([]);
  });

  test("a build context root that does not exist, or is a file, is an error", async () => {
    expect((await compile({ dockerfile: "Dockerfile", build_context_root: "missing" })).errors).toEqual([
      expect.objectContaining({ code: "FILE_NOT_FOUND", path: "settings.docker.build_context_root", message: expect.stringContaining(`relative paths start at ${JSON.stringify(root)}`) }),
    ]);
    expect((await compile({ dockerfile: "Dockerfile", build_context_root: "Dockerfile" })).errors).toEqual([
      expect.objectContaining({ code: "INVALID_PATH", path: "settings.docker.build_context_root" }),
    ]);
  });
});

test("a file outside the root reaches the plan only as what it holds, never as a source of the image", async () => {
  const { out } = await compile({ allow_including_files_in_images: true, requirements: "link-out.txt" });
  const dockerfile = await readFile(path.join(out, "orchestrator", "Dockerfile"), "utf8");
  expect(dockerfile).toContain("COPY .zenml_user_requirements /app/.zenml_user_requirements\n");
  const plan = await readFile(path.join(out, "plan.json"), "utf8");
  expect(plan).not.toContain(outside);
});
