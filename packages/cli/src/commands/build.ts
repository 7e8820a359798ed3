/**
 * `dockwright build`: compile, stage each image's build context in a temporary folder, and build
 * the images in plan order with a real tool, its progress on standard error.
 */
import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { codes, DiagnosticError, error, formatDiagnostic, hasErrors, shellQuote, type Diagnostic, type ImagePlan, type ParentImage } from "@dockwright/core";
import { createMatcher, listContext, loadDockerignore, parseDockerignore, stageContext, walkContext } from "@dockwright/context";
import { frontendArgs } from "@dockwright/emit-llb";
import { invalidInput, parseFlags } from "../args.js";
import { findRoot } from "../context.js";
import { exitCodes, type Command, type Io } from "../io.js";
import { isReusable, writePlan } from "../output.js";
import { compileConfig } from "../pipeline.js";
import { indexFile, readBuildIndex, recordBuild } from "../build-index.js";
import { buildWithBuildctl, csvField } from "../builders/buildctl.js";
import { compileFlags, compileOptions, report } from "./compile.js";

const help = `Usage: dockwright build CONFIG --builder buildah|docker|buildctl [options]

Compiles CONFIG as \`dockwright compile\` does, stages each image's build context
(the source files and the generated files) in a temporary folder, and builds
the images in plan order: a parent image of the plan first, skip_build images
not at all, images built before with the same checksum (the build index in
OUT) not again, unless prevent_build_reuse. The tool's progress goes to
standard error.

Options:
  --builder B            buildah: runs each image's build.sh
                         docker: docker build of each image's Dockerfile
                         buildctl: buildctl build of each image's llb.pb (BuildKit)
  --root DIR             source root (default: as for compile)
  --out DIR              output folder for the build definitions (default: ./dockwright-out)
  --mode M               buildkit (cache mounts) | plain (default: buildkit). With docker,
                         buildkit sets DOCKER_BUILDKIT=1; plain leaves the choice to Docker
  --network MODE         docker build --network (e.g. host, for an engine without a bridge)
  --buildah BIN          the buildah command (default: $BUILDAH, else buildah)
  --docker BIN           the docker command (default: $DOCKER, else docker)
  --buildctl BIN         the buildctl command (default: $BUILDCTL, else buildctl)
  --addr ADDR            buildkitd address for buildctl (default: buildctl's own)
  --oci DIR              with buildctl: write OCI tarballs DIR/<image>.tar instead of
                         images in BuildKit's store
  --no-cache             build every image and every layer again: no image of the build
                         index is reused, and the builder's layer cache is not used
                         (build.sh --no-cache, docker and buildctl build --no-cache)
  --pipeline NAME, --python X.Y, --platform P, --zenml-version V   as for compile
  -h, --help             this help

Buildah's storage and isolation come from its environment: STORAGE_DRIVER (e.g.
vfs), BUILDAH_ISOLATION (e.g. chroot, inside a container), CONTAINERS_STORAGE_CONF.
Docker's engine comes from DOCKER_HOST; buildctl's daemon from --addr or BUILDKIT_HOST.

Exit codes: 0 every image built; 1 the build tool failed (its error is above);
2 invalid input, or the build tool is not installed.
`;

const builders = ["buildah", "docker", "buildctl"] as const;
type Builder = (typeof builders)[number];

/** What runs the build of one image. */
type Tool = { builder: Builder; bin: string; mode: "buildkit" | "plain"; noCache: boolean; network?: string; addr?: string; oci?: string };

/** The backend whose files each builder reads. */
const backendOf: Record<Builder, string> = { buildah: "buildah", docker: "dockerfile", buildctl: "llb" };

export const buildCommand: Command = async (args, io) => {
  const parsed = parseFlags(args, {
    ...compileFlags,
    builder: { type: "string" },
    mode: { type: "string" },
    network: { type: "string" },
    buildah: { type: "string" },
    docker: { type: "string" },
    buildctl: { type: "string" },
    addr: { type: "string" },
    oci: { type: "string" },
    "no-cache": { type: "boolean" },
  }, help, io);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return invalidInput(io, `build takes one CONFIG file, got ${positionals.length}. Run \`dockwright build --help\`.`);
  const builder = builders.find((b) => b === values.builder);
  if (!builder) {
    return invalidInput(io, `${values.builder === undefined ? "--builder is required" : `--builder ${JSON.stringify(values.builder)} is not a builder`}; use ${builders.join(", ")}.`);
  }
  const mode = values.mode ?? "buildkit";
  if (mode !== "buildkit" && mode !== "plain") return invalidInput(io, `--mode ${JSON.stringify(mode)} is not a Dockerfile mode; use buildkit or plain.`);
  const bin = values[builder] ?? io.env[builder.toUpperCase()] ?? builder;
  const tool: Tool = {
    builder, bin, mode, noCache: values["no-cache"] === true,
    ...(values.network !== undefined ? { network: values.network } : {}),
    ...(values.addr !== undefined ? { addr: values.addr } : {}),
    ...(values.oci !== undefined ? { oci: path.resolve(io.cwd, values.oci) } : {}),
  };
  const missing = await notInstalled(builder, bin, io);
  if (missing) return invalidInput(io, missing);

  const options = compileOptions(positionals[0]!, values, io.cwd);
  const root = options.root ?? (await findRoot(path.dirname(options.configPath)));
  if (typeof root !== "string") return invalidInput(io, root.message);
  const out = options.out;
  const result = await compileConfig({ ...options, root });
  if ("message" in result) return invalidInput(io, result.message);
  report(result.diagnostics, io.stderr);
  if (!result.plan) return invalidInput(io, "the configuration is invalid (see above); nothing was built.");
  const index = indexFile(out);
  const built = new Set((await readBuildIndex(index)).keys());
  const written = await writePlan(result.compiler, result.plan, out, { backends: [backendOf[builder]], mode, built });
  report(written.diagnostics, io.stderr);
  if (hasErrors(written.diagnostics)) return invalidInput(io, "a backend cannot express this plan (see above); nothing was built.");

  // Images come in build order: a parent image of the plan before the images built on it.
  for (const image of result.plan.images) {
    if (image.skipBuild) {
      io.stdout(`${image.tag}: used as is (skip_build)\n`);
      continue;
    }
    if (!tool.noCache && isReusable(image, built)) {
      io.stdout(`${image.tag}: reused, built before with checksum ${image.checksum}\n`);
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
    await recordBuild(index, { checksum: image.checksum, tag: image.tag, builder });
    io.stdout(`${image.tag}: built with ${builder}\n`);
  }
  return exitCodes.ok;
};

/** A message when `bin` cannot be started at all. */
async function notInstalled(builder: Builder, bin: string, io: Io): Promise<string | undefined> {
  const started = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const child = spawn(bin, ["--version"], { cwd: io.cwd, env: io.env, stdio: "ignore" });
    child.on("error", resolve);
    child.on("spawn", () => resolve(undefined));
  });
  if (!started) return undefined;
  const install = { buildah: "Debian: apt-get install buildah", docker: "Debian: apt-get install docker.io", buildctl: "BuildKit's release archives; a buildkitd must be reachable too" }[builder];
  return `cannot run ${JSON.stringify(bin)} (${started.code}): is ${builder} installed? Install it (${install}), or name the command with --${builder} BIN.`;
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
  if (tool.builder === "buildctl") return buildctl(tool, image, { folder, staging, context, root }, io);
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
    return run("bash", [path.join(folder, "build.sh"), ...(tool.noCache ? ["--no-cache"] : []), context, image.tag], env, io, root);
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
  // docker reads --secret as one CSV record, as buildctl does.
  const secrets = image.secrets.flatMap(({ id, source }) =>
    ["--secret", [`id=${id}`, "env" in source ? `env=${source.env}` : `src=${path.resolve(root, source.file)}`].map(csvField).join(",")]);
  return run(tool.bin, [
    "build",
    "--file", path.join(dockerfileDir, "Dockerfile"),
    "--tag", image.tag,
    ...(tool.noCache ? ["--no-cache"] : []),
    ...(tool.network !== undefined ? ["--network", tool.network] : []),
    ...secrets,
    ...options,
    context,
  ], env, io, io.cwd);
}

/** BuildKit: the image's llb.pb, or a user Dockerfile through the Dockerfile frontend. */
async function buildctl(tool: Tool, image: ImagePlan, { folder, context, root }: Paths, io: Io): Promise<number> {
  const output = tool.oci !== undefined
    ? ({ type: "oci", dest: path.join(tool.oci, `${image.key}.tar`) } as const)
    : ({ type: "image", name: image.tag } as const);
  if (tool.oci !== undefined) await mkdir(tool.oci, { recursive: true });
  if (image.parent.kind === "dockerfile") {
    const dockerfile = path.dirname(path.resolve(root, image.parent.path));
    const csv = output.type === "oci" ? `type=oci,dest=${output.dest}` : `type=image,name=${output.name}`;
    const args = frontendArgs(image, image.parent, { context, dockerfile }, csv);
    return run(tool.bin, [...(tool.addr !== undefined ? ["--addr", tool.addr] : []), ...args, ...(tool.noCache ? ["--no-cache"] : [])], io.env, io, root);
  }
  return buildWithBuildctl(tool.bin, {
    folder,
    locals: { context, generated: folder },
    output,
    secrets: image.secrets,
    noCache: tool.noCache,
    ...(tool.addr !== undefined ? { addr: tool.addr } : {}),
  }, { ...io, cwd: root });
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
  const dropped = (await listContext(context)).entries.flatMap((e) => (e.type !== "dir" && matcher.excludes(e.path) ? [e.path] : []));
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


