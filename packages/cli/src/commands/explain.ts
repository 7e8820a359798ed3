import { readFile } from "node:fs/promises";
import { cacheRecord, explainImage, explainRebuild, hasErrors, type CacheRecord, type Rebuild } from "@dockwright/core";
import { printable } from "@dockwright/core/diagnostics";
import { invalidInput, parseFlags } from "../args.js";
import { indexFile, readBuildIndex } from "../build-index.js";
import { exitCodes, type Command } from "../io.js";
import { isReusable, lastCompileFile } from "../output.js";
import { compileConfig } from "../pipeline.js";
import { compileFlags, compileOptions, report } from "./compile.js";

const help = `Usage: dockwright explain CONFIG [options]

Compiles CONFIG in memory and tells, for each image, whether an earlier build can be reused
(the build index in OUT), which layers would rebuild compared with the last
\`dockwright compile\` into OUT and why, where every requirement comes from, and which
layers rebuild when each input changes. Writes nothing but caches.

Options: --root, --out, --pipeline, --python, --platform, --zenml-version as for compile.
`;

export const explainCommand: Command = async (args, io) => {
  const parsed = parseFlags(args, compileFlags, help, io);
  if (typeof parsed === "number") return parsed;
  if (parsed.positionals.length !== 1) return invalidInput(io, "explain takes one CONFIG file. Run `dockwright explain --help`.");
  const options = compileOptions(parsed.positionals[0]!, parsed.values, io.cwd);
  const result = await compileConfig(options);
  if ("message" in result) return invalidInput(io, result.message);
  report(result.diagnostics, io.stderr);
  if (!result.plan || hasErrors(result.diagnostics)) return invalidInput(io, "the configuration is invalid (see above).");

  const previous = await readLastCompile(lastCompileFile(options.out));
  const built = new Set((await readBuildIndex(indexFile(options.out))).keys());
  for (const image of result.plan.images) {
    const rebuild = explainRebuild(previous.get(image.key), cacheRecord(image));
    const reuse = image.mode !== "build" ? (image.mode === "use-parent" ? "used as is (skip_build)" : "the parent, tagged as this image (nothing to install)") : isReusable(image, built) ? "reusable: built before with this checksum" : "not built before";
    const text = `${image.tag} [${image.key}]: ${reuse}\n  ${describe(rebuild, image.layers.length)}\n${explainImage(image)}`;
    // Requirement lines and where they came from are the user's text: each printed line stays one line.
    io.stdout(`${text.split("\n").map(printable).join("\n")}\n`);
  }
  return exitCodes.ok;
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
