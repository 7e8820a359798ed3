/**
 * `dockwright build`: the flags, the plan of the run (compile with parents resolved in their
 * registries, write the build definitions, decide what needs a registry), the images shipped in a
 * bounded pool (`ship.ts`, one builder of `builders/`), and the report.
 */
import { availableParallelism } from "node:os";
import path from "node:path";
import { contentTag, DiagnosticError, formatDiagnostic, hasErrors, type BuildPlan, type ImagePlan } from "@dockwright/core";
import { RegistryError } from "@dockwright/registry";
import { parseFlags } from "../args.js";
import { indexFile, readBuildIndex } from "../build-index.js";
import { builderNames, type Builder, type BuilderName, type BuilderOptions } from "../builders/builder.js";
import { buildahBuilder } from "../builders/buildah.js";
import { buildctlBuilder } from "../builders/buildctl.js";
import { buildkitBuilder, tlsFlags } from "../builders/buildkit.js";
import { dockerBuilder } from "../builders/docker.js";
import { ToolFailed } from "../builders/spawn.js";
import { findRoot } from "../context.js";
import { exitCodes, type Command, type Io } from "../io.js";
import { writePlan, writePlanFile, type Shipped } from "../output.js";
import { compileConfig } from "../pipeline.js";
import { runPool } from "../pool.js";
import { prefixedLines, progressLine } from "../progress.js";
import { openRegistries, registryFlags, registryHelp } from "../registry.js";
import { reporter, type Reporter } from "../report.js";
import { shipImage, type Outcome, type Run } from "../ship.js";
import { checkCompileFlags, compileFlags, compileOptions } from "./compile.js";

const help = `Usage: dockwright build CONFIG --builder buildah|docker|buildctl|buildkit [options]

Compiles CONFIG as \`dockwright compile\` does, with each parent image resolved in
its registry (its digest joins the checksum; the build starts from exactly that
image), stages each image's build context in a temporary folder, and builds the
images, a parent image of the plan before the images built on it. Before building,
each image's content tag (REPOSITORY:dockwright-<checksum>) is looked up in the
registry, then in the builder's own store: an image found there is reused, not
built (unless prevent_build_reuse or --no-cache). Built images are tagged by checksum too; with
--push both tags go to the registry. The tools' progress goes to standard error.

Options:
  --builder B            buildah: runs each image's build.sh
                         docker: docker build of each image's Dockerfile
                         buildctl: buildctl build of each image's llb.pb (BuildKit)
                         buildkit: the same on BuildKit with the native client, no buildctl
  --push                 push every image to the registry (the stack's container_registry,
                         or --registry), and print the pushed references with digests
${registryHelp}
  --no-resolve           do not resolve parent images (only this machine's builder holds them)
  --jobs N               images built at once (default: the number of cores, here ${availableParallelism()})
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
                         instead of images in BuildKit's store (a parent of another image
                         is pushed instead: BuildKit pulls parents from registries)
  --no-cache             build every image and every layer again: nothing is reused from
                         the registry or the builder's store, and no layer cache is used
                         (build.sh --no-cache; docker and buildctl --no-cache)
  --pipeline, --python, --platform, --zenml-version, --zenml-store,
  --code-upload          as for compile
  --json                 one JSON object per line on standard output (see the README);
                         the tools' output stays on standard error
  -h, --help             this help

Buildah's storage and isolation come from its environment: STORAGE_DRIVER (e.g.
vfs), BUILDAH_ISOLATION (e.g. chroot, inside a container), CONTAINERS_STORAGE_CONF.
Docker's engine comes from DOCKER_HOST; buildctl's daemon from --addr or BUILDKIT_HOST.
Registry credentials come from Docker's config.json (DOCKER_CONFIG, else ~/.docker:
auths, credsStore, credHelpers).

Exit codes: 0 every image built or reused; 1 a build tool failed (its error is above);
2 invalid input, a registry refused (bad credentials, ...), or the build tool is not installed.
`;

export const buildCommand: Command = async (args, io) => {
  const out = reporter(io, "build", args.includes("--json"));
  const parsed = parseFlags(args, {
    ...compileFlags,
    ...registryFlags,
    builder: { type: "string" },
    push: { type: "boolean" },
    "no-resolve": { type: "boolean" },
    jobs: { type: "string" },
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
  const name = builderNames.find((b) => b === values.builder);
  if (!name) {
    return out.fail(`${values.builder === undefined ? "--builder is required" : `--builder ${JSON.stringify(values.builder)} is not a builder`}; use ${builderNames.join(", ")}.`);
  }
  const mode = values.mode ?? "buildkit";
  if (mode !== "buildkit" && mode !== "plain") return out.fail(`--mode ${JSON.stringify(mode)} is not a Dockerfile mode; use buildkit or plain.`);
  const jobs = values.jobs ?? String(availableParallelism());
  if (!/^[1-9]\d{0,3}$/.test(jobs)) return out.fail(`--jobs ${JSON.stringify(jobs)} is not a number of images to build at once; give a whole number from 1.`);
  if (values.push && values.oci !== undefined) return out.fail("--push and --oci exclude each other: an image goes to a registry or into a tarball. Choose one.");
  const noCache = values["no-cache"] === true;
  if (noCache && name === "buildkit") return out.fail("--no-cache is not available with the native BuildKit client yet; use --builder buildctl for a build without cache.");
  const flagProblem = checkCompileFlags(values);
  if (flagProblem) return out.fail(flagProblem);

  const registries = openRegistries(values["insecure-registry"] ?? [], io.env);
  try {
    const tls = tlsFlags(values, io.cwd);
    const builderOptions: BuilderOptions = {
      bin: name === "buildkit" ? "buildkit" : (values[name] ?? io.env[name.toUpperCase()] ?? name),
      mode,
      noCache,
      env: io.env,
      cwd: io.cwd,
      registry: registries.access,
      ...(values.network !== undefined ? { network: values.network } : {}),
      ...(values.addr !== undefined ? { addr: values.addr } : {}),
      ...(values.oci !== undefined ? { oci: path.resolve(io.cwd, values.oci) } : {}),
      ...(tls ? { tls } : {}),
    };
    const builder = builders[name](builderOptions);
    const missing = await builder.unavailable();
    if (missing) return out.fail(missing);

    const options = {
      ...compileOptions(positionals[0]!, values, io.cwd, io.env),
      ...(values.registry !== undefined ? { registry: values.registry } : {}),
      ...(values["no-resolve"] ? {} : { resolveParent: registries.resolveParent }),
    };
    const root = options.root ?? (await findRoot(path.dirname(options.configPath)));
    if (typeof root !== "string") return out.fail(root.message);
    const progress = progressLine(io);
    const result = await compileConfig({ ...options, root, onProgress: progress.update });
    progress.done();
    if ("message" in result) return out.fail(result.message);
    out.diagnostics(result.diagnostics);
    if (!result.plan) return out.fail("the configuration is invalid (see above); nothing was built.");
    const plan = result.plan;
    const problem = registryProblem(plan, builder, values.push === true);
    if (problem) return out.fail(problem);
    const index = await readBuildIndex(indexFile(options.out));
    const built = new Set(index.keys());
    const write = { backends: [builder.backend], mode, built };
    const written = await writePlan(result.compiler, plan, options.out, write);
    out.diagnostics(written.diagnostics);
    if (hasErrors(written.diagnostics)) return out.fail("a backend cannot express this plan (see above); nothing was built.");

    const run: Run = {
      compiler: result.compiler, plan, builder, registry: registries.client, push: values.push === true, noCache,
      out: options.out, root, base: path.dirname(options.configPath), write, index, outcomes: new Map(), warn: (message) => out.warn(message),
      ...(io.stderrIsTTY ? { onBuild: announceBuilds(plan, builder, io) } : {}),
    };
    return await shipAll(run, Number(jobs), io, out, built);
  } catch (e) {
    if (e instanceof RegistryError) return out.fail(e.message);
    throw e;
  } finally {
    await registries.close();
  }
};

const builders: Record<BuilderName, (options: BuilderOptions) => Builder> = {
  buildah: buildahBuilder,
  docker: dockerBuilder,
  buildctl: buildctlBuilder,
  buildkit: buildkitBuilder,
};

/** Why the plan cannot be built as asked: pushing, or BuildKit building on a parent of the plan, needs a registry. */
function registryProblem(plan: BuildPlan, builder: Builder, push: boolean): string | undefined {
  if (plan.registry !== undefined) return undefined;
  const fix = "Add a container_registry to the run configuration's stack (`stack.components: [{type: container_registry, flavor: default, uri: HOST[:PORT][/PATH]}]`), or give --registry URI.";
  if (push && plan.images.length > 0) return `--push needs a registry to push to, and the images are named without one. ${fix}`;
  const child = plan.images.find((image) => image.mode === "build" && image.parent.kind === "plan");
  if (!builder.store && child?.parent.kind === "plan") {
    return `${child.tag} is built on ${child.parent.tag}, another image of the plan, and BuildKit pulls the parent of a build from a registry, so it must be pushed first. ${fix} Or build with buildah or docker.`;
  }
  return undefined;
}

/**
 * On a terminal, a line as each image starts building. "2 of 3" is the image's place among the
 * plan's images to build or reuse, not the order of starts: with --jobs that order varies.
 */
function announceBuilds(plan: BuildPlan, builder: Builder, io: Io): (image: ImagePlan) => void {
  const toBuild = plan.images.filter((image) => image.mode === "build").map((image) => image.key);
  return (image) => io.stderr(`dockwright: building ${toBuild.indexOf(image.key) + 1} of ${toBuild.length}: ${image.tag} with ${builder.name}\n`);
}

/** Every image of the plan through the pool; reported as each finishes, then plan.json with where they went, and the summary. */
async function shipAll(run: Run, jobs: number, io: Io, out: Reporter, built: ReadonlySet<string>): Promise<number> {
  const { plan, builder } = run;
  const counts = { built: 0, reused: 0, skipped: 0, pushed: 0 };
  const prefixed = jobs > 1 && plan.images.length > 1;
  const tasks = plan.images.map((image) => ({ key: image.key, image, ...(image.parent.kind === "plan" ? { after: image.parent.key } : {}) }));
  const failure = await runPool(tasks, jobs, async ({ image }, signal) => {
    const lines = prefixedLines(prefixed ? `[${image.key}] ` : "", io.stderr);
    try {
      const outcome = await shipImage(run, image, { log: lines.write, signal });
      run.outcomes.set(image.key, outcome);
      counts[outcome.action === "tagged" ? "skipped" : outcome.action]++;
      if (outcome.shipped && (run.push || outcome.action === "built")) counts.pushed++;
      out.result(describe(image, outcome, builder.name), { event: "image", action: outcome.action, ...described(run, image), ...shippedFields(outcome) });
    } finally {
      lines.flush();
    }
  });
  const shipped = new Map([...run.outcomes].flatMap(([key, outcome]) => (outcome.shipped ? [[key, outcome.shipped] as [string, Shipped]] : [])));
  await writePlanFile(plan, run.out, built, shipped);
  if (failure) {
    const { task: { image }, error } = failure;
    const { code, toolCode, message } = failed(image, error);
    out.result("", { event: "image", action: "failed", ...described(run, image), exitCode: toolCode });
    return out.fail(message, code);
  }
  return out.done(exitCodes.ok, { out: run.out, plan: path.join(run.out, "plan.json"), ...counts });
}

function described(run: Run, image: ImagePlan): Record<string, unknown> {
  return {
    key: image.key, tag: image.tag, checksum: image.checksum, folder: path.join(run.out, image.key), builder: run.builder.name,
    ...(image.mode === "build" ? { contentTag: contentTag(image) } : {}),
  };
}

function shippedFields(outcome: Outcome): Record<string, unknown> {
  return { ...(outcome.from ? { from: outcome.from } : {}), ...(outcome.shipped ? { digest: outcome.shipped.digest, references: outcome.shipped.references } : {}) };
}

/** One line for people. */
function describe(image: ImagePlan, outcome: Outcome, builder: string): string {
  const references = outcome.shipped?.references ?? [];
  switch (outcome.action) {
    case "skipped":
      return `${image.tag}: used as is (skip_build)\n`;
    case "tagged":
      return `${image.tag}: the parent tagged as this image (nothing to install)${references.length > 0 ? `: ${references.join(", ")}` : ""}\n`;
    case "built":
      return `${image.tag}: built with ${builder}${references.length > 0 ? `, pushed ${references.join(" and ")}` : ""}\n`;
    case "reused":
      return outcome.from === "registry"
        ? `${image.tag}: reused ${references.join(" and ")}: the registry holds checksum ${image.checksum}\n`
        : `${image.tag}: reused ${contentTag(image)}: ${builder} holds checksum ${image.checksum}${references.length > 0 ? `; pushed ${references.join(" and ")}` : ""}\n`;
  }
}

/**
 * Why an image failed: the command's exit code (1 a tool failed; 2 invalid input, a registry's
 * refusal, or a tool that is not installed), the tool's own exit code, and the message.
 */
function failed(image: ImagePlan, error: unknown): { code: number; toolCode: number; message: string } {
  // A tool's message names the image already.
  if (error instanceof ToolFailed) {
    return { code: error.started ? exitCodes.buildFailed : exitCodes.invalidInput, toolCode: error.exitCode, message: error.message };
  }
  const problem = error instanceof RegistryError ? error.message : error instanceof DiagnosticError ? error.diagnostics.map(formatDiagnostic).join("\n") : undefined;
  if (problem === undefined) throw error;
  return { code: exitCodes.invalidInput, toolCode: exitCodes.invalidInput, message: `${image.tag}: ${problem}` };
}
