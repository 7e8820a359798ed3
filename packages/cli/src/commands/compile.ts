import path from "node:path";
import { fileURLToPath } from "node:url";
import { hasErrors, type BuildPlan, type SourceDecision } from "@dockwright/core";
import { printable } from "@dockwright/core/diagnostics";
import { findRelease, supportedReleases } from "@dockwright/plugin-zenml";
import { parseFlags } from "../args.js";
import { backendNames, isBackend } from "../backends.js";
import { compileConfig, type CompileOptions } from "../pipeline.js";
import { exitCodes, type Command, type Io } from "../io.js";
import { progressLine } from "../progress.js";
import { writeProject, type ProjectImage } from "../project.js";
import { openRegistries, registryFlags, registryHelp } from "../registry.js";
import { reporter, type Reporter } from "../report.js";
import { watchFiles } from "../watch.js";

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
  --code-upload DEST     where images that download their code find it: a folder or
                         a file:// URL (a mounted artifact store); the archive is
                         copied there and its location recorded in OUT/plan.json
  --resolve              resolve each parent image in its registry, as \`dockwright build\`
                         does: its digest pins the build definitions and joins the
                         checksum, its configuration (Env, User, ...) feeds LLB
${registryHelp}
  --json                 one JSON object per line on standard output (see the README)
  --watch                compile again whenever the configuration, a requirements file,
                         pyproject.toml or the .dockerignore changes; Ctrl-C stops
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
  "code-upload": { type: "string" },
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
    ...(values["code-upload"] !== undefined ? { codeUpload: uploadFolder(values["code-upload"], cwd) } : {}),
    ...(env ? { environment: env } : {}),
  };
}

function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/** `--code-upload`: a folder (relative to `cwd`) or a `file://` URL, as an absolute folder. */
function uploadFolder(dest: string, cwd: string): string {
  return dest.startsWith("file:") ? fileURLToPath(dest) : path.resolve(cwd, dest);
}

/** Why the shared flags are wrong, or undefined. */
export function checkCompileFlags(values: CompileFlagValues): string | undefined {
  const store = values["zenml-store"];
  if (store !== undefined && store !== "rest" && store !== "sql") return `--zenml-store ${JSON.stringify(store)} is not a store; use rest or sql.`;
  const version = values["zenml-version"];
  if (version !== undefined && !findRelease(version)) return `--zenml-version ${JSON.stringify(version)} is not a supported ZenML release; supported are ${supportedReleases()}.`;
  const upload = values["code-upload"];
  if (upload !== undefined) {
    const url = /^[A-Za-z][\w+.-]*:/.test(upload) ? parseUrl(upload) : undefined;
    if (upload === "" || (url !== undefined && (url === null || url.protocol !== "file:" || url.host !== ""))) {
      return `--code-upload ${JSON.stringify(upload)} is not a folder or a file:// URL. Name a folder (a mounted artifact store), or upload OUT's code-*.tar.gz with your store's tools.`;
    }
  }
  return undefined;
}

export const compileCommand: Command = async (args, io) => {
  const out = reporter(io, "compile", args.includes("--json"));
  const parsed = parseFlags(args, { ...compileFlags, ...registryFlags, resolve: { type: "boolean" }, target: { type: "string" }, mode: { type: "string" }, json: { type: "boolean" }, watch: { type: "boolean" } }, help, io, out.json ? (message) => out.fail(message) : undefined);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return out.fail(`compile takes one CONFIG file, got ${positionals.length}. Run \`dockwright compile --help\`.`);
  const target = values.target ?? "all";
  if (target !== "all" && !isBackend(target)) {
    return out.fail(`--target ${JSON.stringify(target)} is not a backend; use ${backendNames.join(", ")} or all.`);
  }
  const mode = values.mode ?? "buildkit";
  if (mode !== "buildkit" && mode !== "plain") return out.fail(`--mode ${JSON.stringify(mode)} is not a Dockerfile mode; use buildkit or plain.`);
  const flagProblem = checkCompileFlags(values);
  if (flagProblem) return out.fail(flagProblem);
  const registries = openRegistries(values["insecure-registry"] ?? [], io.env);
  try {
    const options: CompileOptions = {
      ...compileOptions(positionals[0]!, values, io.cwd, io.env),
      ...(values.registry !== undefined ? { registry: values.registry } : {}),
      ...(values.resolve ? { resolveParent: registries.resolveParent } : {}),
    };
    const watch = values.watch === true ? { beforeRecompile: registries.forgetParents } : undefined;
    return await compileOrWatch(options, { backends: target === "all" ? backendNames : [target], mode }, watch, io, out);
  } finally {
    await registries.close();
  }
};

async function compileOrWatch(options: CompileOptions, write: { backends: readonly string[]; mode: string }, watch: { beforeRecompile(): void } | undefined, io: Io, out: Reporter): Promise<number> {
  if (!watch) return (await compileOnce(options, write, io, out)).code;

  let last = await compileOnce(options, write, io, out);
  io.stderr(`dockwright: watching ${last.inputs.size} files for changes; Ctrl-C stops.\n`);
  // On a recompile, people get one line; tools get every event again.
  const quiet: Reporter = out.json ? out : { ...out, result: () => {} };
  await watchFiles(last.inputs, async (changed) => {
    const before = new Map(last.images.map((image) => [image.key, image.checksum]));
    watch.beforeRecompile();
    last = await compileOnce(options, write, io, quiet);
    const what = changed.map((file) => path.relative(io.cwd, file) || file).join(", ");
    const changedImages = last.images.filter((image) => before.get(image.key) !== image.checksum).length;
    const result = last.code === exitCodes.ok
      ? `${last.images.length} images, ${changedImages} changed`
      : "failed (see above); the last good output stays";
    if (!out.json) io.stdout(`${printable(`${new Date().toISOString().slice(11, 19)} recompiled after a change to ${what}: ${result}`)}\n`);
    return last.inputs;
  }, io.interrupted?.() ?? new Promise<void>(() => {}));
  return exitCodes.ok;
}

type Round = { code: number; images: ProjectImage[]; inputs: ReadonlySet<string> };

/** One compile into OUT, reported; with the files it read, for --watch. */
async function compileOnce(options: CompileOptions, write: { backends: readonly string[]; mode: string }, io: Io, out: Reporter): Promise<Round> {
  const inputs = new Set([options.configPath]);
  const progress = progressLine(io);
  const compiled = await compileConfig({ ...options, onRead: (file) => inputs.add(file), onProgress: progress.update });
  progress.done();
  const failed = (message: string): Round => ({ code: out.fail(message), images: [], inputs });
  if ("message" in compiled) return failed(compiled.message);
  const project = await writeProject(compiled, options.out, write);
  out.diagnostics(project.diagnostics);
  if (!project.plan) return failed("the configuration is invalid (see above); nothing was written.");
  if (hasErrors(project.diagnostics)) return failed("a backend cannot express this plan (see above).");
  for (const image of project.images) {
    const folder = path.relative(io.cwd, image.folder) || ".";
    const what = image.mode === "use-parent" ? "used as is (skip_build)"
      : image.mode === "retag-parent" ? "the parent, tagged as this image (nothing to install)"
      : `${folder}${path.sep}${image.reusable ? " (built before: reusable)" : ""}`;
    const { files: _, ...described } = image;
    // One line each, whatever the paths hold (a folder name may have a line break).
    out.result(`${printable(`${image.tag}: ${what} [sources: ${describeSources(image.sources, project.plan, (file) => path.relative(io.cwd, path.join(options.out, file)))}]`)}\n`,
      { event: "image", action: "written", ...described });
  }
  if (project.images.length === 0) {
    out.result("no images: the stack's orchestrator runs the steps itself, and ZenML builds images only for orchestrators that run them in containers.\n");
  }
  out.result(`${printable(`plan: ${path.relative(io.cwd, project.planFile!)}`)}\n`);
  return { code: out.done(exitCodes.ok, { out: options.out, plan: project.planFile, images: project.images.length }), images: project.images, inputs };
}

/** Where the image's code comes from, in a few words; `shown` names an output file for the reader. */
function describeSources(sources: SourceDecision, plan: BuildPlan, shown: (file: string) => string): string {
  const { repository, archive } = plan.code;
  if (sources.mode === "code-repository" && repository) {
    return `code-repository ${repository.url} at ${repository.commit.slice(0, 12)}${repository.subdirectory ? `, in ${repository.subdirectory}` : ""}`;
  }
  if (sources.mode === "artifact-store") return archive ? `artifact-store ${shown(archive.path)}` : "artifact-store (no archive)";
  return sources.mode;
}
