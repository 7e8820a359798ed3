/**
 * `dockwright build`: compile, stage each image's build context in a temporary folder, and build
 * the images in plan order with a real tool, its progress on standard error.
 */
import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { codes, DiagnosticError, error, formatDiagnostic, hasErrors, shellQuote, type BuildOptions, type Diagnostic, type ImagePlan } from "@dockwright/core";
import { createMatcher, listContext, loadDockerignore, parseDockerignore, stageContext, walkContext } from "@dockwright/context";
import { frontendArgs } from "@dockwright/emit-llb";
import { parseFlags } from "../args.js";
import { findRoot } from "../context.js";
import { exitCodes, type Command, type Io } from "../io.js";
import { isReusable, writePlan } from "../output.js";
import { compileConfig } from "../pipeline.js";
import { indexFile, readBuildIndex, recordBuild } from "../build-index.js";
import { buildWithBuildctl, csvField } from "../builders/buildctl.js";
import { buildWithBuildkit, tlsFlags, type BuildkitTarget } from "../builders/buildkit.js";
import { progressLine } from "../progress.js";
import { reporter } from "../report.js";
import { checkCompileFlags, compileFlags, compileOptions } from "./compile.js";

const help = `Usage: dockwright build CONFIG --builder buildah|docker|buildctl|buildkit [options]

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
                         buildkit: the same on BuildKit with the native client, no buildctl
  --root DIR             source root (default: as for compile)
  --out DIR              output folder for the build definitions (default: ./dockwright-out)
  --mode M               buildkit (cache mounts) | plain (default: buildkit). With docker,
                         buildkit sets DOCKER_BUILDKIT=1; plain leaves the choice to Docker
  --network MODE         docker build --network (e.g. host, for an engine without a bridge)
  --buildah BIN          the buildah command (default: $BUILDAH, else buildah)
  --docker BIN           the docker command (default: $DOCKER, else docker)
  --buildctl BIN         the buildctl command (default: $BUILDCTL, else buildctl)
  --addr ADDR            buildkitd address for buildctl and buildkit: unix:///PATH,
                         tcp://HOST:PORT, docker-container://NAME, docker-engine:///SOCKET
                         (default: $BUILDKIT_HOST, else unix:///run/buildkit/buildkitd.sock)
  --tlscacert FILE, --tlscert FILE, --tlskey FILE, --tlsservername NAME
                         with buildkit: TLS to a tcp:// daemon, as buildctl's flags
  --oci DIR              with buildctl or buildkit: write OCI tarballs DIR/<image>.tar
                         instead of images in BuildKit's store
  --no-cache             build every image and every layer again: no image of the build
                         index is reused, and no builder's layer cache is used
                         (build.sh --no-cache, docker, buildctl and buildkit --no-cache)
  --pipeline, --python, --platform, --zenml-version, --zenml-store,
  --code-upload          as for compile
  --json                 one JSON object per line on standard output (see the README);
                         the tools' output stays on standard error
  -h, --help             this help

Buildah's storage and isolation come from its environment: STORAGE_DRIVER (e.g.
vfs), BUILDAH_ISOLATION (e.g. chroot, inside a container), CONTAINERS_STORAGE_CONF.
Docker's engine comes from DOCKER_HOST; buildctl's daemon from --addr or BUILDKIT_HOST.

Exit codes: 0 every image built; 1 the build tool failed (its error is above);
2 invalid input, or the build tool is not installed.
`;

const builders = ["buildah", "docker", "buildctl", "buildkit"] as const;
type Builder = (typeof builders)[number];

/** What runs the build of one image. */
type Tool = { builder: Builder; bin: string; mode: "buildkit" | "plain"; noCache: boolean; network?: string; addr?: string; oci?: string; tls?: BuildkitTarget["tls"] };

/** The backend whose files each builder reads. */
const backendOf: Record<Builder, string> = { buildah: "buildah", docker: "dockerfile", buildctl: "llb", buildkit: "llb" };

export const buildCommand: Command = async (args, io) => {
  const out = reporter(io, "build", args.includes("--json"));
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
    json: { type: "boolean" },
    "no-cache": { type: "boolean" },
    tlscacert: { type: "string" },
    tlscert: { type: "string" },
    tlskey: { type: "string" },
    tlsservername: { type: "string" },
  }, help, io, out.json ? (message) => out.fail(message) : undefined);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return out.fail(`build takes one CONFIG file, got ${positionals.length}. Run \`dockwright build --help\`.`);
  const builder = builders.find((b) => b === values.builder);
  if (!builder) {
    return out.fail(`${values.builder === undefined ? "--builder is required" : `--builder ${JSON.stringify(values.builder)} is not a builder`}; use ${builders.join(", ")}.`);
  }
  const mode = values.mode ?? "buildkit";
  if (mode !== "buildkit" && mode !== "plain") return out.fail(`--mode ${JSON.stringify(mode)} is not a Dockerfile mode; use buildkit or plain.`);
  const bin = builder === "buildkit" ? "buildkit" : (values[builder] ?? io.env[builder.toUpperCase()] ?? builder);
  const tool: Tool = {
    builder, bin, mode, noCache: values["no-cache"] === true,
    ...(values.network !== undefined ? { network: values.network } : {}),
    ...(values.addr !== undefined ? { addr: values.addr } : {}),
    ...(values.oci !== undefined ? { oci: path.resolve(io.cwd, values.oci) } : {}),
    tls: tlsFlags(values, io.cwd),
  };
  const missing = builder === "buildkit" ? undefined : await notInstalled(builder, bin, io);
  if (missing) return out.fail(missing);
  if (tool.noCache && builder === "buildkit") return out.fail("--no-cache is not available with the native BuildKit client yet; use --builder buildctl for a build without cache.");

  const flagProblem = checkCompileFlags(values);
  if (flagProblem) return out.fail(flagProblem);
  const options = compileOptions(positionals[0]!, values, io.cwd, io.env);
  const root = options.root ?? (await findRoot(path.dirname(options.configPath)));
  if (typeof root !== "string") return out.fail(root.message);
  const progress = progressLine(io);
  const result = await compileConfig({ ...options, root, onProgress: progress.update });
  progress.done();
  if ("message" in result) return out.fail(result.message);
  // Paths in the plan (a user Dockerfile, its context, secret files) are relative to the configuration's folder.
  const base = path.dirname(options.configPath);
  out.diagnostics(result.diagnostics);
  if (!result.plan) return out.fail("the configuration is invalid (see above); nothing was built.");
  const index = indexFile(options.out);
  const built = new Set((await readBuildIndex(index)).keys());
  const written = await writePlan(result.compiler, result.plan, options.out, { backends: [backendOf[builder]], mode, built });
  out.diagnostics(written.diagnostics);
  if (hasErrors(written.diagnostics)) return out.fail("a backend cannot express this plan (see above); nothing was built.");

  // Images come in build order: a parent image of the plan before the images built on it.
  const counts = { built: 0, reused: 0, skipped: 0 };
  const toBuild = result.plan.images.filter((image) => image.mode === "build" && (tool.noCache || !isReusable(image, built))).length;
  for (const image of result.plan.images) {
    const folder = path.join(options.out, image.key);
    const described = { key: image.key, tag: image.tag, checksum: image.checksum, folder, builder };
    if (image.mode === "use-parent") {
      counts.skipped++;
      out.result(`${image.tag}: used as is (skip_build)\n`, { event: "image", action: "skipped", ...described });
      continue;
    }
    if (image.mode === "retag-parent") {
      // Nothing to install: the parent is the image, under this image's name.
      const code = await retagParent(tool, image, io);
      if (code !== 0) {
        out.result("", { event: "image", action: "failed", ...described, exitCode: code });
        return out.fail(`${bin} failed to tag the parent of ${image.tag} (exit code ${code}); its output is above.`, exitCodes.buildFailed);
      }
      counts.skipped++;
      out.result(`${image.tag}: the parent tagged as this image (nothing to install)\n`, { event: "image", action: "tagged", ...described });
      continue;
    }
    if (!tool.noCache && isReusable(image, built)) {
      counts.reused++;
      out.result(`${image.tag}: reused, built before with checksum ${image.checksum}\n`, { event: "image", action: "reused", ...described });
      continue;
    }
    if (io.stderrIsTTY) io.stderr(`dockwright: building ${counts.built + 1} of ${toBuild}: ${image.tag} with ${builder}\n`);
    const staging = await mkdtemp(path.join(tmpdir(), "dockwright-build-"));
    try {
      const context = path.join(staging, "context");
      await stage(image, root, base, context);
      const code = await buildImage(tool, image, { folder, staging, context, base }, io);
      if (code !== 0) {
        out.result("", { event: "image", action: "failed", ...described, exitCode: code });
        return out.fail(`${bin} failed to build ${image.tag} (exit code ${code}); its output is above.`, exitCodes.buildFailed);
      }
    } catch (e) {
      if (e instanceof DiagnosticError) return out.fail(e.diagnostics.map(formatDiagnostic).join("\n"));
      throw e;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    await recordBuild(index, { checksum: image.checksum, tag: image.tag, builder });
    counts.built++;
    out.result(`${image.tag}: built with ${builder}\n`, { event: "image", action: "built", ...described });
  }
  return out.done(exitCodes.ok, { out: options.out, plan: path.join(options.out, "plan.json"), ...counts });
};

/** A message when `bin` cannot be started at all. */
async function notInstalled(builder: Exclude<Builder, "buildkit">, bin: string, io: Io): Promise<string | undefined> {
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
async function stage(image: ImagePlan, root: string, base: string, dest: string): Promise<void> {
  if (image.parent.kind !== "dockerfile") {
    await stageContext(root, image.context.sources ?? { entries: [] }, image.context.generated, dest, { writable: image.context.writable });
    return;
  }
  const { contextRoot, dockerignore } = image.parent;
  if (contextRoot === undefined) {
    // The reference system's context for a user Dockerfile without a context root: nothing but the Dockerfile.
    await mkdir(dest);
    return;
  }
  const dir = path.resolve(base, contextRoot);
  const patterns = (await loadDockerignore(dir, dockerignore === undefined ? undefined : path.resolve(base, dockerignore))).patterns;
  await stageContext(dir, await walkContext(dir, { patterns }), [], dest);
}

/** Where one image's build finds its files. */
type Paths = { folder: string; staging: string; context: string; base: string };

async function buildImage(tool: Tool, image: ImagePlan, { folder, staging, context, base }: Paths, io: Io): Promise<number> {
  if (tool.builder === "buildctl") return buildctl(tool, image, { folder, staging, context, base }, io);
  if (tool.builder === "buildkit") return buildWithBuildkit({ addr: tool.addr, tls: tool.tls, oci: tool.oci }, image, { folder, context, base }, io);
  if (tool.builder === "buildah") {
    const env = { ...io.env };
    if (tool.bin !== "buildah") {
      // build.sh calls `buildah`: put the chosen command first on PATH under that name.
      const shim = path.join(staging, "bin");
      await mkdir(shim);
      await writeFile(path.join(shim, "buildah"), `#!/bin/sh\nexec ${shellQuote(tool.bin)} "$@"\n`, { mode: 0o755 });
      env["PATH"] = `${shim}${path.delimiter}${env["PATH"] ?? ""}`;
    }
    // From the configuration's folder, where the script finds the files of build secrets.
    return run("bash", [path.join(folder, "build.sh"), ...(tool.noCache ? ["--no-cache"] : []), context, image.tag], env, io, base);
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
  const options = dockerFlags(image.parent.kind === "dockerfile" ? image.parent.buildOptions : image.buildOptions, io);
  // docker reads --secret as one CSV record, as buildctl does.
  const secrets = image.secrets.flatMap(({ id, source }) =>
    ["--secret", [`id=${id}`, "env" in source ? `env=${source.env}` : `src=${path.resolve(base, source.file)}`].map(csvField).join(",")]);
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

/** ZenML's "nothing to build": the parent pulled and tagged with the image's name. */
async function retagParent(tool: Tool, image: ImagePlan, io: Io): Promise<number> {
  const ref = image.parent.kind === "image" ? image.parent.ref : image.parent.kind === "plan" ? image.parent.tag : "";
  if (tool.builder === "buildctl" || tool.builder === "buildkit") {
    io.stderr(`dockwright: ${tool.builder} cannot tag an image; tag ${ref} as ${image.tag} with your registry tools.\n`);
    return 0;
  }
  const pulled = await run(tool.bin, ["pull", ref], io.env, io, io.cwd);
  return pulled !== 0 ? pulled : run(tool.bin, ["tag", ref, image.tag], io.env, io, io.cwd);
}

/** BuildKit: the image's llb.pb, or a user Dockerfile through the Dockerfile frontend. */
async function buildctl(tool: Tool, image: ImagePlan, { folder, context, base }: Paths, io: Io): Promise<number> {
  const output = tool.oci !== undefined
    ? ({ type: "oci", dest: path.join(tool.oci, `${image.key}.tar`) } as const)
    : ({ type: "image", name: image.tag } as const);
  if (tool.oci !== undefined) await mkdir(tool.oci, { recursive: true });
  if (image.parent.kind === "dockerfile") {
    const dockerfile = path.dirname(path.resolve(base, image.parent.path));
    const csv = output.type === "oci" ? `type=oci,dest=${output.dest}` : `type=image,name=${output.name}`;
    const args = frontendArgs(image, image.parent, { context, dockerfile }, csv);
    return run(tool.bin, [...(tool.addr !== undefined ? ["--addr", tool.addr] : []), ...args, ...(tool.noCache ? ["--no-cache"] : [])], io.env, io, base);
  }
  return buildWithBuildctl(tool.bin, {
    folder,
    locals: { context, generated: folder },
    output,
    secrets: image.secrets,
    noCache: tool.noCache,
    ...(tool.addr !== undefined ? { addr: tool.addr } : {}),
  }, { ...io, cwd: base });
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

/** Build options as `docker build` flags; the ones it has none for are named on standard error. */
function dockerFlags(options: BuildOptions, io: Io): string[] {
  for (const key of Object.keys(options.other)) io.stderr(`dockwright: the build option ${JSON.stringify(key)} is not passed to docker build; pass it by hand.\n`);
  return [
    ...options.buildArgs.flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
    ...options.labels.flatMap(([k, v]) => ["--label", `${k}=${v}`]),
    ...(options.target !== undefined ? ["--target", options.target] : []),
    ...(options.platform !== undefined ? ["--platform", options.platform] : []),
    ...(options.network !== undefined ? ["--network", options.network] : []),
    ...(options.noCache ? ["--no-cache"] : []),
    ...(options.pull ? ["--pull"] : []),
    ...(options.shmSize !== undefined ? ["--shm-size", `${options.shmSize}b`] : []),
    ...options.cacheFrom.flatMap((ref) => ["--cache-from", ref]),
    ...options.extraHosts.flatMap(([host, ip]) => ["--add-host", `${host}:${ip}`]),
  ];
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


