import path from "node:path";
import { formatDiagnostic, hasErrors, type Diagnostic, type SourceDecision } from "@dockwright/core";
import { invalidInput, parseFlags } from "../args.js";
import { backendNames, isBackend } from "../backends.js";
import { compileConfig, type CompileOptions } from "../pipeline.js";
import { exitCodes, type Command } from "../io.js";
import { isReusable, writePlan } from "../output.js";
import { indexFile, readBuildIndex } from "../build-index.js";

const help = `Usage: dockwright compile CONFIG [options]

Compiles a run configuration (YAML or JSON: settings.docker for the pipeline,
steps.<name>.settings.docker per step, stack.components) into build definitions,
one folder per image under the output folder, and OUT/plan.json.

Options:
  --root DIR             source root (default: the nearest folder at or above
                         CONFIG's folder holding .zen, else CONFIG's folder)
  --target T             ${backendNames.join(" | ")} | all (default: all)
  --out DIR              output folder (default: ./dockwright-out)
  --mode M               Dockerfile mode: buildkit (cache mounts) | plain (default: buildkit)
  --pipeline NAME        pipeline name for image tags (default: CONFIG's file name)
  --python X.Y           Python version of the image (default: 3.11)
  --platform P           target platform, os/arch[/variant] (default: linux/amd64)
  --zenml-version V      ZenML version of the default parent image (default: 0.58.0)
  -h, --help             this help
`;

/** The flags that choose what is compiled, shared with `explain` and `build`. */
export const compileFlags = {
  root: { type: "string" },
  out: { type: "string" },
  pipeline: { type: "string" },
  python: { type: "string" },
  platform: { type: "string" },
  "zenml-version": { type: "string" },
} as const;

type CompileFlagValues = { [K in keyof typeof compileFlags]?: string };

/** The compile request of a command line: CONFIG and the shared flags. */
export function compileOptions(config: string, values: CompileFlagValues, cwd: string): CompileOptions {
  return {
    configPath: path.resolve(cwd, config),
    out: path.resolve(cwd, values.out ?? "dockwright-out"),
    ...(values.root !== undefined ? { root: path.resolve(cwd, values.root) } : {}),
    ...(values.pipeline !== undefined ? { pipeline: values.pipeline } : {}),
    ...(values.python !== undefined ? { python: values.python } : {}),
    ...(values.platform !== undefined ? { platform: values.platform } : {}),
    ...(values["zenml-version"] !== undefined ? { zenmlVersion: values["zenml-version"] } : {}),
  };
}

export const compileCommand: Command = async (args, io) => {
  const parsed = parseFlags(args, { ...compileFlags, target: { type: "string" }, mode: { type: "string" } }, help, io);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return invalidInput(io, `compile takes one CONFIG file, got ${positionals.length}. Run \`dockwright compile --help\`.`);
  const target = values.target ?? "all";
  if (target !== "all" && !isBackend(target)) {
    return invalidInput(io, `--target ${JSON.stringify(target)} is not a backend; use ${backendNames.join(", ")} or all.`);
  }
  const mode = values.mode ?? "buildkit";
  if (mode !== "buildkit" && mode !== "plain") return invalidInput(io, `--mode ${JSON.stringify(mode)} is not a Dockerfile mode; use buildkit or plain.`);

  const options = compileOptions(positionals[0]!, values, io.cwd);
  const out = options.out;
  const result = await compileConfig(options);
  if ("message" in result) return invalidInput(io, result.message);
  report(result.diagnostics, io.stderr);
  if (!result.plan) return invalidInput(io, "the configuration is invalid (see above); nothing was written.");

  const built = new Set((await readBuildIndex(indexFile(out))).keys());
  const written = await writePlan(result.compiler, result.plan, out, {
    backends: target === "all" ? backendNames : [target],
    mode,
    built,
  });
  report(written.diagnostics, io.stderr);
  if (hasErrors(written.diagnostics)) return invalidInput(io, "a backend cannot express this plan (see above).");
  for (const image of result.plan.images) {
    const folder = path.relative(io.cwd, path.join(out, image.key)) || ".";
    const what = image.skipBuild ? "used as is (skip_build)" : `${folder}${path.sep}${isReusable(image, built) ? " (built before: reusable)" : ""}`;
    io.stdout(`${image.tag}: ${what} [sources: ${describeSources(image.sources, (file) => path.relative(io.cwd, path.join(out, file)))}]\n`);
  }
  io.stdout(`plan: ${path.relative(io.cwd, path.join(out, "plan.json"))}\n`);
  return exitCodes.ok;
};

/** Where the image's code comes from, in a few words; `shown` names an output file for the reader. */
function describeSources(sources: SourceDecision, shown: (file: string) => string): string {
  if (sources.mode === "code-repository") {
    return `code-repository ${sources.url} at ${sources.commit.slice(0, 12)}${sources.subdirectory ? `, in ${sources.subdirectory}` : ""}`;
  }
  return sources.mode === "artifact-store" ? `artifact-store ${shown(sources.archive)}` : sources.mode;
}

export function report(diagnostics: Diagnostic[], write: (text: string) => void): void {
  for (const d of diagnostics) write(`${formatDiagnostic(d)}\n`);
}
