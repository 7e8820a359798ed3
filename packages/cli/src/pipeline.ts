/** Loading a run configuration and compiling it with the standard plugins and backends. */
import path from "node:path";
import { Compiler, type BuildPlan, type CompileHost, type Diagnostic } from "@dockwright/core";
import type { Progress } from "@dockwright/context";
import { git } from "@dockwright/plugin-git";
import { localEnv } from "@dockwright/plugin-local-env";
import { zenml } from "@dockwright/plugin-zenml";
import { registerBackends } from "./backends.js";
import { loadConfig } from "./config-file.js";
import { findRoot } from "./context.js";
import { nodeHost } from "./host.js";
import { prepareOutFolder } from "./out-folder.js";
import { inside } from "./paths.js";

export type CompileOptions = {
  configPath: string;
  out: string;
  root?: string;
  pipeline?: string;
  python?: string;
  platform?: string;
  zenmlVersion?: string;
  /** `rest` (a ZenML server, the default) or `sql` (a database directly). */
  zenmlStore?: "rest" | "sql";
  /** The environment ZenML would see: `${VAR}` placeholders and `ZENML_LOGGING_COLORS_DISABLED`. */
  environment?: Readonly<Record<string, string | undefined>>;
  /** Told the absolute path of every file the compile reads or looks for (`compile --watch`). */
  onRead?: (file: string) => void;
  /** Progress of a long walk of the build context. */
  onProgress?: (progress: Progress) => void;
  /** Absolute folder the code archive is uploaded to; absent: it stays in `out`, with a warning. */
  codeUpload?: string;
};

export type Compiled = { compiler: Compiler; plan?: BuildPlan; diagnostics: Diagnostic[] };

/** Compiles a configuration file; `{message}` when the input cannot even be read. */
export async function compileConfig(options: CompileOptions): Promise<Compiled | { message: string }> {
  const config = await loadConfig(options.configPath);
  if ("message" in config) return config;
  const root = options.root ?? (await findRoot(path.dirname(options.configPath)));
  if (typeof root !== "string") return root;
  return compileRunConfig(config.value, { ...options, root, base: path.dirname(options.configPath), pipeline: options.pipeline ?? pipelineNameOf(options.configPath) });
}

export type RunConfigOptions = Omit<CompileOptions, "configPath" | "root" | "pipeline"> & {
  root: string;
  pipeline: string;
  /** Where relative settings paths start: the configuration file's folder (default: the source root). */
  base?: string;
};

/** Compiles a run configuration value with the standard plugins and backends. */
export async function compileRunConfig(value: unknown, options: RunConfigOptions): Promise<Compiled | { message: string }> {
  const { root } = options;
  if (inside(options.out, root) !== undefined) {
    // Output files would land in the user's source tree.
    return { message: `the output folder ${JSON.stringify(options.out)} holds the source root ${JSON.stringify(root)}; choose a folder of its own with --out.` };
  }
  let compiler: Compiler;
  try {
    compiler = new Compiler([
      zenml({
        ...(options.zenmlVersion !== undefined ? { version: options.zenmlVersion } : {}),
        ...(options.zenmlStore !== undefined ? { store: options.zenmlStore } : {}),
      }),
      localEnv(),
      // The output folder may lie inside the repository; what it holds is no change to the code.
      git({ exclude: [options.out] }),
    ]);
  } catch (e) {
    return { message: (e as Error).message };
  }
  registerBackends(compiler);
  const unusable = await prepareOutFolder(options.out);
  if (unusable) return { message: unusable };
  let host: CompileHost;
  try {
    // Relative settings paths start at the configuration file's folder, as ZenML's at its working directory.
    host = await nodeHost({
      root, base: options.base ?? root, out: options.out, onProgress: options.onProgress,
      ...(options.codeUpload !== undefined ? { codeUpload: options.codeUpload } : {}),
    });
  } catch (e) {
    return { message: `cannot read the source root ${JSON.stringify(root)}: ${(e as Error).message}` };
  }
  if (options.onRead) host = recordReads(host, options.onRead);
  const result = await compiler.compile({
    config: value,
    pipelineName: options.pipeline,
    host,
    ...(options.python !== undefined ? { pythonVersion: options.python } : {}),
    ...(options.platform !== undefined ? { platform: options.platform } : {}),
    ...(options.environment ? { environment: options.environment } : {}),
  });
  return { compiler, ...result };
}

/** `configs/training.yaml` -> `training`, made fit for an image tag. */
function pipelineNameOf(configPath: string): string {
  const base = path.basename(configPath).replace(/\.(ya?ml|json)$/i, "");
  return base.replace(/[^A-Za-z0-9_.-]/g, "-").replace(/^[.-]+/, "") || "pipeline";
}

/** The host, telling `onRead` every file a compile reads or looks for, found or not. */
function recordReads(host: CompileHost, onRead: (file: string) => void): CompileHost {
  return {
    ...host,
    readFile(file, settingPath) {
      onRead(path.resolve(host.root, file));
      return host.readFile(file, settingPath);
    },
    context(dockerignore, settingPath) {
      onRead(path.resolve(host.root, dockerignore ?? ".dockerignore"));
      return host.context(dockerignore, settingPath);
    },
  };
}
