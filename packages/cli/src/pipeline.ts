/** Loading a run configuration and compiling it with the standard plugins and backends. */
import path from "node:path";
import { Compiler, type BuildPlan, type Diagnostic } from "@dockwright/core";
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
};

export type Compiled = { compiler: Compiler; plan?: BuildPlan; diagnostics: Diagnostic[] };

/** Compiles a configuration file; `{message}` when the input cannot even be read. */
export async function compileConfig(options: CompileOptions): Promise<Compiled | { message: string }> {
  const config = await loadConfig(options.configPath);
  if ("message" in config) return config;
  const root = options.root ?? (await findRoot(path.dirname(options.configPath)));
  if (typeof root !== "string") return root;
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
  let host;
  try {
    // Relative settings paths start at the configuration file's folder, as ZenML's at its working directory.
    host = await nodeHost({ root, base: path.dirname(options.configPath), out: options.out });
  } catch (e) {
    return { message: `cannot read the source root ${JSON.stringify(root)}: ${(e as Error).message}` };
  }
  const result = await compiler.compile({
    config: config.value,
    pipelineName: options.pipeline ?? pipelineNameOf(options.configPath),
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
