import { readFile } from "node:fs/promises";
import { cacheRecord, explainImage, explainRebuild, hasErrors, type CacheRecord, type Rebuild } from "@dockwright/core";
import { parseFlags } from "../args.js";
import { indexFile, readBuildIndex } from "../build-index.js";
import { exitCodes, type Command } from "../io.js";
import { isReusable, lastCompileFile } from "../output.js";
import { compileConfig } from "../pipeline.js";
import { reporter } from "../report.js";
import { checkCompileFlags, compileFlags, compileOptions } from "./compile.js";

const help = `Usage: dockwright explain CONFIG [options]

Compiles CONFIG in memory and tells, for each image, whether an earlier build can be reused
(the build index in OUT), which layers would rebuild compared with the last
\`dockwright compile\` into OUT and why, where every requirement comes from, and which
layers rebuild when each input changes. Writes nothing but caches.

Options: --root, --out, --pipeline, --python, --platform, --zenml-version, --zenml-store
as for compile;
--json: one JSON object per line on standard output (see the README).
`;

export const explainCommand: Command = async (args, io) => {
  const out = reporter(io, "explain", args.includes("--json"));
  const parsed = parseFlags(args, { ...compileFlags, json: { type: "boolean" } }, help, io, out.json ? (message) => out.fail(message) : undefined);
  if (typeof parsed === "number") return parsed;
  if (parsed.positionals.length !== 1) return out.fail("explain takes one CONFIG file. Run `dockwright explain --help`.");
  const flagProblem = checkCompileFlags(parsed.values);
  if (flagProblem) return out.fail(flagProblem);
  // Explaining uploads nothing.
  const { codeUpload: _, ...options } = compileOptions(parsed.positionals[0]!, parsed.values, io.cwd, io.env);
  const result = await compileConfig(options);
  if ("message" in result) return out.fail(result.message);
  out.diagnostics(result.diagnostics);
  if (!result.plan || hasErrors(result.diagnostics)) return out.fail("the configuration is invalid (see above).");

  const previous = await readLastCompile(lastCompileFile(options.out));
  const built = new Set((await readBuildIndex(indexFile(options.out))).keys());
  for (const image of result.plan.images) {
    const rebuild = explainRebuild(previous.get(image.key), cacheRecord(image));
    const reusable = isReusable(image, built);
    const reuse = image.mode === "use-parent" ? "used as is (skip_build)"
      : image.mode === "retag-parent" ? "the parent, tagged as this image (nothing to install)"
      : reusable ? "reusable: built before with this checksum" : "not built before";
    const requirements = image.layers.flatMap((layer) => (layer.kind === "requirements" ? [{ file: layer.file, origin: layer.origin, lines: layer.lines }] : []));
    out.result(`${image.tag} [${image.key}]: ${reuse}\n  ${describe(rebuild, image.layers.length)}\n${explainImage(image)}\n`, {
      event: "explain", key: image.key, tag: image.tag, checksum: image.checksum, mode: image.mode, reusable, rebuild, requirements,
    });
  }
  return out.done(exitCodes.ok, { images: result.plan.images.length });
};

function describe(rebuild: Rebuild, layers: number): string {
  switch (rebuild.verdict) {
    case "new":
      return "no earlier compile of this image to compare with: every layer builds";
    case "unchanged":
      return "unchanged since the last compile: every layer is cached";
    case "rebuild":
      return rebuild.layers === 0
        ? rebuild.reason
        : `rebuilds ${rebuild.layers} of ${layers} layers, from layer ${rebuild.from + 1} (${rebuild.kind}): ${rebuild.reason}`;
  }
}

async function readLastCompile(file: string): Promise<Map<string, CacheRecord>> {
  try {
    const records = JSON.parse(await readFile(file, "utf8")) as CacheRecord[];
    return new Map(records.map((r) => [r.key, r]));
  } catch {
    return new Map(); // No earlier compile (or an unreadable one): everything is new.
  }
}
