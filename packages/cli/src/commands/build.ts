/**
 * `dockwright build`: compile, stage each image's build context in a temporary folder, and build
 * the images in plan order with a real tool, its progress on standard error.
 */
import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { codes, DiagnosticError, error, formatDiagnostic, hasErrors, shellQuote, type Diagnostic, type ImagePlan, type ParentImage } from "@dockwright/core";
import { createMatcher, loadDockerignore, parseDockerignore, stageContext, walkContext } from "@dockwright/context";
import { invalidInput, parseFlags } from "../args.js";
import { findRoot } from "../context.js";
import { exitCodes, type Command, type Io } from "../io.js";
import { writePlan } from "../output.js";
import { compileConfig } from "../pipeline.js";

const help = `Usage: dockwright build CONFIG --builder buildah|docker [options]

Compiles CONFIG as \`dockwright compile\` does, stages each image's build context
(the source files and the generated files) in a temporary folder, and builds
the images in plan order: a parent image of the plan first, skip_build images
not at all. The tool's progress goes to standard error.

Options:
  --builder B            buildah: runs each image's build.sh
                         docker: docker build of each image's Dockerfile
  --root DIR             source root (default: as for compile)
  --out DIR              output folder for the build definitions (default: ./dockwright-out)
  --mode M               buildkit (cache mounts) | plain (default: buildkit). With docker,
                         buildkit sets DOCKER_BUILDKIT=1; plain leaves the choice to Docker
  --network MODE         docker build --network (e.g. host, for an engine without a bridge)
  --buildah BIN          the buildah command (default: $BUILDAH, else buildah)
  --docker BIN           the docker command (default: $DOCKER, else docker)
  --pipeline NAME, --python X.Y, --platform P, --zenml-version V   as for compile
  -h, --help             this help

Buildah's storage and isolation come from its environment: STORAGE_DRIVER (e.g.
vfs), BUILDAH_ISOLATION (e.g. chroot, inside a container), CONTAINERS_STORAGE_CONF.
Docker's engine comes from DOCKER_HOST.

Exit codes: 0 every image built; 1 the build tool failed (its error is above);
2 invalid input, or the build tool is not installed.
`;

type Builder = "buildah" | "docker";

/** What runs the build of one image. */
type Tool = { builder: Builder; bin: string; mode: "buildkit" | "plain"; network?: string };

export const buildCommand: Command = async (args, io) => {
  const parsed = parseFlags(args, {
    builder: { type: "string" },
    root: { type: "string" },
    out: { type: "string" },
    mode: { type: "string" },
    network: { type: "string" },
    buildah: { type: "string" },
    docker: { type: "string" },
    pipeline: { type: "string" },
    python: { type: "string" },
    platform: { type: "string" },
    "zenml-version": { type: "string" },
  }, help, io);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return invalidInput(io, `build takes one CONFIG file, got ${positionals.length}. Run \`dockwright build --help\`.`);
  const builder = values.builder;
  if (builder !== "buildah" && builder !== "docker") {
    return invalidInput(io, `${builder === undefined ? "--builder is required" : `--builder ${JSON.stringify(builder)} is not a builder`}; use buildah or docker.`);
  }
  const mode = values.mode ?? "buildkit";
  if (mode !== "buildkit" && mode !== "plain") return invalidInput(io, `--mode ${JSON.stringify(mode)} is not a Dockerfile mode; use buildkit or plain.`);
  const bin = (builder === "docker" ? values.docker ?? io.env["DOCKER"] : values.buildah ?? io.env["BUILDAH"]) ?? builder;
  const tool: Tool = { builder, bin, mode, ...(values.network !== undefined ? { network: values.network } : {}) };
  const missing = await notInstalled(bin, io);
  if (missing) return invalidInput(io, missing);

  const configPath = path.resolve(io.cwd, positionals[0]!);
  const root = values.root !== undefined ? path.resolve(io.cwd, values.root) : await findRoot(path.dirname(configPath));
  if (typeof root !== "string") return invalidInput(io, root.message);
  const out = path.resolve(io.cwd, values.out ?? "dockwright-out");
  const result = await compileConfig({
    configPath,
    out,
    root,
    ...(values.pipeline !== undefined ? { pipeline: values.pipeline } : {}),
    ...(values.python !== undefined ? { python: values.python } : {}),
    ...(values.platform !== undefined ? { platform: values.platform } : {}),
    ...(values["zenml-version"] !== undefined ? { zenmlVersion: values["zenml-version"] } : {}),
  });
  if ("message" in result) return invalidInput(io, result.message);
  report(result.diagnostics, io);
  if (!result.plan) return invalidInput(io, "the configuration is invalid (see above); nothing was built.");
  const written = await writePlan(result.compiler, result.plan, out, { backends: [builder === "docker" ? "dockerfile" : "buildah"], mode });
  report(written.diagnostics, io);
  if (hasErrors(written.diagnostics)) return invalidInput(io, "a backend cannot express this plan (see above); nothing was built.");

  // Images come in build order: a parent image of the plan before the images built on it.
  for (const image of result.plan.images) {
    if (image.skipBuild) {
      io.stdout(`${image.tag}: used as is (skip_build)\n`);
      continue;
    }
    const staging = await mkdtemp(path.join(tmpdir(), "dockwright-build-"));
    try {
      const context = path.join(staging, "context");
      await stage(image, root, context);
      const code = await buildImage(tool, image, { folder: path.join(out, image.key), staging, context, root }, io);
      if (code !== 0) {
        io.stderr(`dockwright: ${bin} failed to build ${image.tag} (exit code ${code}); its output is above.\n`);
        return exitCodes.buildFailed;
      }
    } catch (e) {
      if (e instanceof DiagnosticError) return invalidInput(io, e.diagnostics.map(formatDiagnostic).join("\n"));
      throw e;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    io.stdout(`${image.tag}: built with ${builder}\n`);
  }
  return exitCodes.ok;
};

/** A message when `bin` cannot be started at all. */
async function notInstalled(bin: string, io: Io): Promise<string | undefined> {
  const started = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const child = spawn(bin, ["--version"], { cwd: io.cwd, env: io.env, stdio: "ignore" });
    child.on("error", resolve);
    child.on("spawn", () => resolve(undefined));
  });
  if (!started) return undefined;
  const name = path.basename(bin);
  const debian = name === "docker" ? "docker.io" : name;
  return `cannot run ${JSON.stringify(bin)} (${started.code}): is ${name} installed? Install it (Debian: apt-get install ${debian}), or name the command with --${name === "docker" ? "docker" : "buildah"} BIN.`;
}

/** The image's build context as a folder: the plan's sources and generated files, or a user Dockerfile's context. */
async function stage(image: ImagePlan, root: string, dest: string): Promise<void> {
  if (image.parent.kind !== "dockerfile") {
    await stageContext(root, image.context.sources ?? { entries: [] }, image.context.generated, dest);
    return;
  }
  const { contextRoot, dockerignore } = image.parent;
  if (contextRoot === undefined) {
    // The reference system's context for a user Dockerfile without a context root: nothing but the Dockerfile.
    await mkdir(dest);
    return;
  }
  const dir = path.resolve(root, contextRoot);
  const patterns = (await loadDockerignore(dir, dockerignore === undefined ? undefined : path.resolve(root, dockerignore))).patterns;
  await stageContext(dir, await walkContext(dir, { patterns }), [], dest);
}

/** Where one image's build finds its files. */
type Paths = { folder: string; staging: string; context: string; root: string };

async function buildImage(tool: Tool, image: ImagePlan, { folder, staging, context, root }: Paths, io: Io): Promise<number> {
  if (tool.builder === "buildah") {
    const env = { ...io.env };
    if (tool.bin !== "buildah") {
      // build.sh calls `buildah`: put the chosen command first on PATH under that name.
      const shim = path.join(staging, "bin");
      await mkdir(shim);
      await writeFile(path.join(shim, "buildah"), `#!/bin/sh\nexec ${shellQuote(tool.bin)} "$@"\n`, { mode: 0o755 });
      env["PATH"] = `${shim}${path.delimiter}${env["PATH"] ?? ""}`;
    }
    // From the source root, where the script finds the files of build secrets.
    return run("bash", [path.join(folder, "build.sh"), context, image.tag], env, io, root);
  }

  // The Dockerfile goes beside its own ignore file: the context is already filtered, and BuildKit
  // would otherwise apply a staged .dockerignore once more (dropping generated files it excludes).
  const dockerfileDir = path.join(staging, "dockerfile");
  await mkdir(dockerfileDir);
  await copyFile(path.join(folder, "Dockerfile"), path.join(dockerfileDir, "Dockerfile"));
  await writeFile(path.join(dockerfileDir, "Dockerfile.dockerignore"), "# The build context is staged by dockwright, already filtered.\n");
  const env = { ...io.env, ...(tool.mode === "buildkit" ? { DOCKER_BUILDKIT: "1" } : {}) };
  if (env["DOCKER_BUILDKIT"] !== "1") {
    const problem = await legacyIgnoreProblem(context);
    if (problem) throw new DiagnosticError([problem]);
  }
  const options = image.parent.kind === "dockerfile" ? dockerBuildOptions(image.parent, io) : [];
  const secrets = image.secrets.flatMap(({ id, source }) =>
    ["--secret", "env" in source ? `id=${id},env=${source.env}` : `id=${id},src=${path.resolve(root, source.file)}`]);
  return run(tool.bin, [
    "build",
    "--file", path.join(dockerfileDir, "Dockerfile"),
    "--tag", image.tag,
    ...(tool.network !== undefined ? ["--network", tool.network] : []),
    ...secrets,
    ...options,
    context,
  ], env, io, io.cwd);
}

/**
 * Docker's legacy builder applies the context's .dockerignore itself, with no way to give it
 * another: a staged .dockerignore that excludes a staged file (a generated requirements file
 * under an allow-list) would silently drop it.
 */
async function legacyIgnoreProblem(context: string): Promise<Diagnostic | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(context, ".dockerignore"), "utf8");
  } catch {
    return undefined;
  }
  const matcher = createMatcher(parseDockerignore(text));
  const dropped = (await walkContext(context)).entries.map((e) => e.path).filter((file) => matcher.excludes(file));
  if (dropped.length === 0) return undefined;
  return error(codes.INVALID_DOCKERIGNORE, ".dockerignore",
    `Docker's legacy builder would apply .dockerignore to the staged context again and drop ${dropped.slice(0, 3).map((f) => JSON.stringify(f)).join(", ")}${dropped.length > 3 ? ", ..." : ""}. ` +
      "Build with BuildKit (--mode buildkit, or DOCKER_BUILDKIT=1), or let .dockerignore exclude itself.");
}

/** ZenML build options (docker-py names) of a user Dockerfile, as `docker build` flags. */
function dockerBuildOptions(parent: Extract<ParentImage, { kind: "dockerfile" }>, io: Io): string[] {
  const flags: string[] = [];
  for (const [key, value] of Object.entries(parent.buildOptions)) {
    const map = value && typeof value === "object" ? Object.entries(value).map(([k, v]) => `${k}=${String(v)}`) : [];
    if (key === "buildargs") flags.push(...map.flatMap((arg) => ["--build-arg", arg]));
    else if (key === "labels") flags.push(...map.flatMap((label) => ["--label", label]));
    else if (key === "target") flags.push("--target", String(value));
    else io.stderr(`dockwright: the build option ${JSON.stringify(key)} of ${parent.path} is not passed to docker build; pass it by hand.\n`);
  }
  return flags;
}

/** Runs a tool with its output on our standard error; resolves to its exit code. */
function run(command: string, args: string[], env: Record<string, string | undefined>, io: Io, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding("utf8"); // never splits a character between chunks
      stream.on("data", (text: string) => io.stderr(text));
    }
    child.on("error", reject);
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function report(diagnostics: Diagnostic[], io: Io): void {
  for (const d of diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
}
