/**
 * Golden fixtures: `test/fixtures/<case>/run.yaml` (+ `root/`, the source root, + optional
 * `options.json`) compiled through the CLI's pipeline; every output file is compared with
 * `expected/`, real files a reviewer reads. Update with `npx vitest run test/golden -u`.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { formatDiagnostic, literalEnv, type ImagePlan } from "@dockwright/core";
import { DockerfileParser, type Env } from "dockerfile-ast";
import { afterAll, describe, expect, it } from "vitest";
import { expectedKeywords } from "./support/ir.ts";
import { compileConfig } from "../packages/cli/src/pipeline.ts";
import { writePlan } from "../packages/cli/src/output.ts";
import { backendNames } from "../packages/cli/src/backends.ts";

const fixtures = path.join(import.meta.dirname, "fixtures");
const cases = readdirSync(fixtures).filter((name) => existsSync(path.join(fixtures, name, "run.yaml"))).sort();
const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-golden-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

type Options = { python?: string; platform?: string; zenmlVersion?: string };

async function compileCase(name: string) {
  const dir = path.join(fixtures, name);
  const options: Options = existsSync(path.join(dir, "options.json"))
    ? JSON.parse(await readFile(path.join(dir, "options.json"), "utf8"))
    : {};
  // A copy outside any git repository: what Dockwright's own checkout looks like must not change the output.
  // The configuration's relative paths start at its folder, beside the source root `root/`.
  const copy = await mkdtemp(path.join(scratch, "fixture-"));
  await cp(dir, copy, { recursive: true, verbatimSymlinks: true, filter: (from) => path.basename(from) !== "expected" });
  const root = path.join(copy, "root");
  await mkdir(root, { recursive: true });
  const out = path.join(scratch, name);
  const result = await compileConfig({ configPath: path.join(copy, "run.yaml"), root, out, pipeline: name, ...options });
  if ("message" in result) throw new Error(result.message);
  // Messages may name the machine's paths; golden files must not.
  const diagnostics = result.diagnostics.map((d) => formatDiagnostic(d).replaceAll(root, "<root>").replaceAll(copy, "<fixture>")).join("\n");
  if (!result.plan) return { out, diagnostics, images: [] as ImagePlan[] };
  await writePlan(result.compiler, result.plan, out, { backends: backendNames, mode: "buildkit" });
  return { out, diagnostics, images: result.plan.images };
}

async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(entries.map((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
  return nested.flat().sort();
}

/**
 * Binary outputs (LLB, code archives) are checked by their own tests, caches are no output;
 * golden files are text a reviewer reads.
 */
const textOutput = (file: string) => !file.endsWith(".pb") && !file.endsWith(".tar.gz") && !file.startsWith(".dockwright/");

describe.each(cases)("fixture %s", (name) => {
  const expected = path.join(fixtures, name, "expected");
  let pending: ReturnType<typeof compileCase> | undefined;
  const compiled = () => (pending ??= compileCase(name));

  it("matches the golden files", async () => {
    const { out, diagnostics } = await compiled();
    const produced = (await filesUnder(out)).filter(textOutput);
    for (const file of produced) {
      await expect(await readFile(path.join(out, file), "utf8")).toMatchFileSnapshot(path.join(expected, file));
    }
    await expect(diagnostics ? `${diagnostics}\n` : "").toMatchFileSnapshot(path.join(expected, "diagnostics.txt"));
    // No stale golden file stays behind unnoticed.
    const golden = (await filesUnder(expected)).filter((f) => f !== "diagnostics.txt");
    expect(golden).toEqual(produced);
  });

  it("each Dockerfile parses with an independent parser into what the IR says", async () => {
    const { out, images } = await compiled();
    for (const image of images.filter((i) => i.mode === "build" && i.parent.kind !== "dockerfile")) {
      const text = await readFile(path.join(out, image.key, "Dockerfile"), "utf8");
      const instructions = DockerfileParser.parse(text).getInstructions();
      expect(instructions.map((i) => i.getKeyword())).toEqual(expectedKeywords(image));
      const env = instructions.filter((i): i is Env => i.getKeyword() === "ENV")
        .flatMap((i) => i.getProperties().map((p) => [p.getName(), p.getValue()?.replaceAll("\\$", "$")]));
      // The fixtures' values are literal: the parser's value is the IR's text.
      expect(env).toEqual(image.layers.flatMap((l) => (l.kind === "env" ? l.vars.map(([name, value]) => [name, literalEnv(value)]) : [])));
    }
  });
});

