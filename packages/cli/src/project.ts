/**
 * Compiling a project from a program: what `dockwright compile` does, as one function that
 * returns the plan, the diagnostics and every backend's files instead of printing them.
 */
import path from "node:path";
import { codes, error, type BuildPlan, type Diagnostic, type ImagePlan, type SourceDecision } from "@dockwright/core";
import { backendNames, type BackendName } from "./backends.js";
import { indexFile, readBuildIndex } from "./build-index.js";
import { findRoot } from "./context.js";
import { isReusable, writePlan } from "./output.js";
import { compileConfig, compileRunConfig, type Compiled } from "./pipeline.js";

export type ProjectOptions = {
  /**
   * The run configuration: the path of a YAML or JSON file, or its value
   * (`{settings: {docker}, steps: {name: {settings: {docker}}}, stack}`).
   */
  config: string | Record<string, unknown>;
  /**
   * The source root. Default: the nearest folder at or above the configuration file's folder
   * (for a value: `cwd`) that holds `.zen`, else that folder.
   */
  root?: string;
  /**
   * Where the build definitions go, one folder per image and `plan.json`, exactly as
   * `dockwright compile --out` writes them; also the home of caches and code archives.
   * Default: `dockwright-out` in `cwd`.
   */
  out?: string;
  /** The backends to print (default: all). */
  targets?: readonly BackendName[];
  /** Dockerfile and Buildah mode: `buildkit` (cache mounts, the default) or `plain`. */
  mode?: "buildkit" | "plain";
  /** Pipeline name for image tags (default: the configuration file's name, else `pipeline`). */
  pipeline?: string;
  /** Python X.Y of the image (default 3.11). */
  python?: string;
  /** `os/arch[/variant]` (default linux/amd64). */
  platform?: string;
  /** The ZenML release whose images to build: `0.70`, `0.82.1`, ... (default: the newest supported). */
  zenmlVersion?: string;
  /** How the client reaches ZenML's store: `rest` (a server, the default) or `sql` (a database directly). */
  zenmlStore?: "rest" | "sql";
  /** Folder the code archive is uploaded to, for images that download their code (default: none, with a warning). */
  codeUpload?: string;
  /** The client environment ZenML reads (`${VAR}` placeholders, ...); default: this process's. */
  environment?: Readonly<Record<string, string | undefined>>;
  /** Relative paths resolve against it (default: the current folder). */
  cwd?: string;
};

export type ProjectImage = {
  key: string;
  tag: string;
  checksum: string;
  /** `build`; `use-parent` (skip_build: the parent is the image); `retag-parent` (nothing to install: the parent, tagged). */
  mode: ImagePlan["mode"];
  /** Built before with this checksum (the build index in `out`): nothing to rebuild. */
  reusable: boolean;
  /** Where the image's code comes from; the plan's `code` names the repository or the archive. */
  sources: SourceDecision;
  /** The folder this image's files were written to. */
  folder: string;
  /** Each backend's files by path: `files.dockerfile.Dockerfile`, `files.buildah["build.sh"]`, `files.llb["llb.pb"]`. */
  files: Partial<Record<BackendName, Record<string, string | Uint8Array>>>;
};

export type Project = {
  /** Absent when the configuration has errors; the diagnostics say which. */
  plan?: BuildPlan;
  /** Every problem found, errors and warnings; user mistakes are never thrown. */
  diagnostics: Diagnostic[];
  /** The plan's images in build order (empty when there is no plan). */
  images: ProjectImage[];
  /** `out/plan.json`, when a plan was written. */
  planFile?: string;
};

/**
 * Compiles a project with the standard plugins (ZenML, local environment, git) and backends,
 * writes the build definitions into `out`, and returns them.
 */
export async function compileProject(options: ProjectOptions): Promise<Project> {
  const cwd = options.cwd ?? process.cwd();
  const out = path.resolve(cwd, options.out ?? "dockwright-out");
  const root = options.root === undefined ? undefined : path.resolve(cwd, options.root);
  const common = { out, python: options.python, platform: options.platform, zenmlVersion: options.zenmlVersion, zenmlStore: options.zenmlStore, environment: options.environment ?? process.env,
    ...(options.codeUpload !== undefined ? { codeUpload: path.resolve(cwd, options.codeUpload) } : {}) };
  let compiled: Compiled | { message: string };
  const where = typeof options.config === "string" ? options.config : "";
  if (typeof options.config === "string") {
    compiled = await compileConfig({ ...common, root, configPath: path.resolve(cwd, options.config), pipeline: options.pipeline });
  } else {
    const found = root ?? (await findRoot(cwd));
    compiled = typeof found === "string" ? await compileRunConfig(options.config, { ...common, root: found, pipeline: options.pipeline ?? "pipeline" }) : found;
  }
  if ("message" in compiled) return { diagnostics: [error(codes.INVALID_CONFIG, where, compiled.message)], images: [] };
  return writeProject(compiled, out, { backends: options.targets ?? backendNames, mode: options.mode ?? "buildkit" });
}

/**
 * Writes a compiled plan into `out` (as `dockwright compile` does) and describes its images; the
 * diagnostics are the compile's and the backends'.
 */
export async function writeProject(compiled: Compiled, out: string, write: { backends: readonly string[]; mode: string }): Promise<Project> {
  const { compiler, plan, diagnostics } = compiled;
  if (!plan) return { diagnostics, images: [] };
  const built = new Set((await readBuildIndex(indexFile(out))).keys());
  const written = await writePlan(compiler, plan, out, { ...write, built });
  // Images in plan order, as far as they were written (a link in the way stops the writing).
  const images = written.images.map(({ folder, files }, i): ProjectImage => {
    const image = plan.images[i]!;
    return {
      key: image.key,
      tag: image.tag,
      checksum: image.checksum,
      mode: image.mode,
      reusable: isReusable(image, built),
      sources: image.sources,
      folder,
      files: Object.fromEntries(Object.entries(files).map(([backend, list]) => [backend, Object.fromEntries(list.map((f) => [f.path, f.contents]))])),
    };
  });
  return { plan, diagnostics: [...diagnostics, ...written.diagnostics], images, planFile: path.join(out, "plan.json") };
}
