import path from "node:path";
import { formatDiagnostic, hasErrors, type BuildPlan, type Diagnostic, type SourceDecision } from "@dockwright/core";
import { printable } from "@dockwright/core/diagnostics";
import { findRelease, supportedReleases } from "@dockwright/plugin-zenml";
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
  --zenml-version V      the ZenML release whose images to build: a minor release
                         (0.70) or a version (0.82.1); default: the newest, 0.93
  --zenml-store S        rest (a ZenML server, default) | sql (a database directly)
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
  "zenml-store": { type: "string" },
} as const;

type CompileFlagValues = { [K in keyof typeof compileFlags]?: string };

/** The compile request of a command line: CONFIG and the shared flags. */
export function compileOptions(config: string, values: CompileFlagValues, cwd: string, env?: Readonly<Record<string, string | undefined>>): CompileOptions {
  return {
    configPath: path.resolve(cwd, config),
    out: path.resolve(cwd, values.out ?? "dockwright-out"),
    ...(values.root !== undefined ? { root: path.resolve(cwd, values.root) } : {}),
    ...(values.pipeline !== undefined ? { pipeline: values.pipeline } : {}),
    ...(values.python !== undefined ? { python: values.python } : {}),
    ...(values.platform !== undefined ? { platform: values.platform } : {}),
    ...(values["zenml-version"] !== undefined ? { zenmlVersion: values["zenml-version"] } : {}),
    ...(values["zenml-store"] === "sql" || values["zenml-store"] === "rest" ? { zenmlStore: values["zenml-store"] } : {}),
    ...(env ? { environment: env } : {}),
  };
}

/** Why the shared flags are wrong, or undefined. */
export function checkCompileFlags(values: CompileFlagValues): string | undefined {
  const store = values["zenml-store"];
  if (store !== undefined && store !== "rest" && store !== "sql") return `--zenml-store ${JSON.stringify(store)} is not a store; use rest or sql.`;
  const version = values["zenml-version"];
  if (version !== undefined && !findRelease(version)) return `--zenml-version ${JSON.stringify(version)} is not a supported ZenML release; supported are ${supportedReleases()}.`;
  return undefined;
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

  const flagProblem = checkCompileFlags(values);
  if (flagProblem) return invalidInput(io, flagProblem);
  const options = compileOptions(positionals[0]!, values, io.cwd, io.env);
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
  if (hasErrors(written.diagnostics)) return invalidInput(io, "the plan cannot be written as asked (see above).");
  for (const image of result.plan.images) {
    const folder = path.relative(io.cwd, path.join(out, image.key)) || ".";
    const what = image.mode === "use-parent" ? "used as is (skip_build)" : image.mode === "retag-parent" ? `the parent ${image.parent.kind === "image" ? image.parent.ref : ""} tagged as is (nothing to install)` : `${folder}${path.sep}${isReusable(image, built) ? " (built before: reusable)" : ""}`;
    io.stdout(`${printable(`${image.tag}: ${what} [sources: ${describeSources(image.sources, result.plan)}]`)}\n`);
  }
  if (result.plan.images.length === 0) {
    io.stdout("no images: the stack's orchestrator runs the steps itself, and ZenML builds images only for orchestrators that run them in containers.\n");
  }
  io.stdout(`plan: ${printable(path.relative(io.cwd, path.join(out, "plan.json")))}\n`);
  return exitCodes.ok;
};

/** Where the image's code comes from, in a few words. */
function describeSources(sources: SourceDecision, plan: BuildPlan): string {
  const { repository } = plan.code;
  if (sources.mode === "code-repository" && repository) {
    return `code-repository ${repository.url} at ${repository.commit.slice(0, 12)}${repository.subdirectory ? `, in ${repository.subdirectory}` : ""}`;
  }
  return sources.mode;
}

export function report(diagnostics: Diagnostic[], write: (text: string) => void): void {
  for (const d of diagnostics) write(`${formatDiagnostic(d)}\n`);
}
