/**
 * Compiling a golden fixture (`test/fixtures/<case>/`: run.yaml, optional root/ and options.json)
 * as the golden test does: a copy outside any git repository, every backend written under `out`.
 */
import { cp, mkdir, mkdtemp, readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { formatDiagnostic, type ImagePlan } from "@dockwright/core";
import { compileConfig } from "../../packages/cli/src/pipeline.ts";
import { writePlan } from "../../packages/cli/src/output.ts";
import { backendNames } from "../../packages/cli/src/backends.ts";

export const goldenFixtures: string = path.join(import.meta.dirname, "..", "fixtures");

type Options = { python?: string; platform?: string; zenmlVersion?: string };

export type CompiledCase = { out: string; diagnostics: string; images: ImagePlan[] };

/** Compiles case `name` in a copy under `scratch`; its outputs go to `scratch/<name>`. */
export async function compileGoldenCase(name: string, scratch: string, edit?: (copy: string) => Promise<void>): Promise<CompiledCase> {
  const dir = path.join(goldenFixtures, name);
  const options: Options = existsSync(path.join(dir, "options.json"))
    ? JSON.parse(await readFile(path.join(dir, "options.json"), "utf8"))
    : {};
  // A copy outside any git repository: what Dockwright's own checkout looks like must not change the output.
  // The configuration's relative paths start at its folder, beside the source root `root/`.
  const copy = await mkdtemp(path.join(scratch, "fixture-"));
  await cp(dir, copy, { recursive: true, verbatimSymlinks: true, filter: (from) => path.basename(from) !== "expected" });
  const root = path.join(copy, "root");
  await mkdir(root, { recursive: true });
  await edit?.(copy);
  const out = path.join(scratch, name);
  const result = await compileConfig({ configPath: path.join(copy, "run.yaml"), root, out, pipeline: name, ...options });
  if ("message" in result) throw new Error(result.message);
  // Messages may name the machine's paths; golden files must not.
  const diagnostics = result.diagnostics.map((d) => formatDiagnostic(d).replaceAll(root, "<root>").replaceAll(copy, "<fixture>")).join("\n");
  if (!result.plan) return { out, diagnostics, images: [] };
  await writePlan(result.compiler, result.plan, out, { backends: backendNames, mode: "buildkit" });
  return { out, diagnostics, images: result.plan.images };
}
