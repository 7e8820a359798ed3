/** The end-to-end fixtures: compiling them, staging their contexts, reading back built images. */
import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import path from "node:path";
import { formatDiagnostic, hasErrors, type BuildPlan, type ImagePlan } from "@dockwright/core";
import { stageContext } from "@dockwright/context";
import type { Io } from "../../../packages/cli/src/io.ts";
import { main } from "../../../packages/cli/src/main.ts";
import { writePlan } from "../../../packages/cli/src/output.ts";
import { compileConfig } from "../../../packages/cli/src/pipeline.ts";
import { basePath } from "./base-image.ts";
import { fileTree, textFiles, type ConfigView, type TreeEntry } from "./images.ts";
import { retryingTransient, type Env } from "./run.ts";

export const fixturesDir = path.join(import.meta.dirname, "..", "fixtures");
export const fixtureNames: string[] = readdirSync(fixturesDir).filter((name) => existsSync(path.join(fixturesDir, name, "run.yaml"))).sort();

export type Fixture = {
  name: string;
  root: string;
  config: string;
  /** The one image the fixture builds. */
  image: ImagePlan;
  /** Its folder of build definitions (Dockerfile in buildkit mode, build.sh, llb.pb and image-config.json). */
  folder: string;
  /** Its staged build context. */
  context: string;
};

/**
 * Compiles a fixture through the CLI's pipeline and stages its context under `work`. `from`
 * replaces the fixture's own root and configuration (a modified copy).
 */
export async function prepareFixture(name: string, work: string, from?: { root: string; config: string }): Promise<Fixture> {
  const dir = path.join(fixturesDir, name);
  await mkdir(work, { recursive: true });
  const root = from?.root ?? (existsSync(path.join(dir, "root")) ? path.join(dir, "root") : await mkdtemp(path.join(work, "empty-root-")));
  const config = from?.config ?? path.join(dir, "run.yaml");
  const out = path.join(work, "out");
  const result = await compileConfig({ configPath: config, out, root, pipeline: name, environment: process.env });
  if ("message" in result) throw new Error(result.message);
  if (!result.plan || hasErrors(result.diagnostics)) throw new Error(result.diagnostics.map(formatDiagnostic).join("\n"));
  await writePlan(result.compiler, result.plan, out, { backends: ["dockerfile", "buildah", "llb"], mode: "buildkit" });
  const image = onlyImage(result.plan);
  const context = path.join(work, "context");
  await stageContext(root, image.context.sources ?? { entries: [] }, image.context.generated, context, { writable: image.context.writable });
  return { name, root, config, image, folder: path.join(out, image.key), context };
}

function onlyImage(plan: BuildPlan): ImagePlan {
  const built = plan.images.filter((image) => image.mode === "build");
  if (built.length !== 1) throw new Error(`a fixture builds one image, this one ${built.length}`);
  return built[0]!;
}

/** An ignore file that ignores nothing: the staged context is already filtered. */
export async function neutralIgnoreFile(scratch: string): Promise<string> {
  const file = path.join(scratch, "neutral.dockerignore");
  await writeFile(file, "# the staged context is already filtered\n");
  return file;
}

/** Runs `dockwright build ARGS` in-process, through the command line's dispatcher; its exit code and what it printed. */
export function dockwrightBuild(args: string[], env: Env, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return retryingTransient(async () => {
    let stdout = "";
    let stderr = "";
    const io: Io = { cwd, env, stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), stderrIsTTY: false };
    const code = await main(["build", ...args], io);
    return { code, stdout, stderr };
  });
}

/** What the tests compare between images built by different tools. */
export type ImageView = {
  config: ConfigView;
  /** The work directory. */
  app: TreeEntry[];
  /** What the stand-in installers recorded: `calls` and `requirements/<n>-<file>`. */
  records: Record<string, string>;
  /** Debian packages the apt-get stand-in "installed". */
  apt: string[];
  /** Build secret mount targets that hold anything in the image: none may. */
  secretsLeft: string[];
};

export async function viewOf(config: ConfigView, root: string, image: ImagePlan): Promise<ImageView> {
  const apt = existsSync(path.join(root, "opt/apt")) ? (await fileTree(path.join(root, "opt/apt"))).slice(1).map((e) => e.path) : [];
  const targets = image.layers.flatMap((layer) => ("secrets" in layer ? layer.secrets.map((s) => s.target) : []));
  const secretsLeft = [...new Set(targets)].filter((target) => (statSync(path.join(root, target), { throwIfNoEntry: false })?.size ?? 0) > 0);
  return { config, app: await fileTree(path.join(root, "app")), records: await textFiles(path.join(root, "var/log/dockwright")), apt, secretsLeft };
}

/** Values of the fixtures' build secrets, as the building machine has them. */
export const secretEnv = { DOCKWRIGHT_TEST_INDEX_URL: "https://ci:not-a-real-token@pypi.example.com/simple" };

/** `--secret` flags of `buildah bud` and `docker build` for the image's build secrets; files are relative to `base`, the configuration's folder. */
export function secretFlags(image: ImagePlan, base: string): string[] {
  return image.secrets.flatMap(({ id, source }) =>
    ["--secret", "env" in source ? `id=${id},env=${source.env}` : `id=${id},src=${path.resolve(base, source.file)}`]);
}

/** The config the plan asks for, on top of the base image's (PATH, CMD ["sh"]). */
export function expectedConfig(image: ImagePlan): ConfigView {
  const env = image.layers.flatMap((layer) => (layer.kind === "env" ? layer.vars.map(([k, v]) => `${k}=${v}`) : []));
  const user = image.layers.flatMap((layer) => (layer.kind === "user" ? [layer.name] : [])).at(-1) ?? "";
  const { entrypoint, cmd, labels } = image.config;
  return {
    Env: [`PATH=${basePath}`, ...env],
    WorkingDir: "/app",
    User: user,
    Entrypoint: entrypoint ?? null,
    // A Dockerfile's ENTRYPOINT drops the inherited CMD.
    Cmd: cmd ?? (entrypoint ? null : ["sh"]),
    Labels: Object.fromEntries(labels),
  };
}

/** The requirements files the stand-ins must have recorded, numbered in install order. */
export function expectedRequirements(image: ImagePlan): Record<string, string> {
  const generated = new Map(image.context.generated.map((file) => [file.path, file.contents]));
  const files = image.layers.flatMap((layer) => (layer.kind === "requirements" ? [layer] : []));
  return Object.fromEntries(files.map((layer, i) => [`requirements/${i + 1}-${path.posix.basename(layer.dest)}`, generated.get(layer.file)!]));
}

/** Files and links of the staged context: what /app must hold, no more. */
export async function stagedPaths(context: string): Promise<string[]> {
  return (await fileTree(context)).filter((e) => e.type !== "dir").map((e) => e.path);
}
