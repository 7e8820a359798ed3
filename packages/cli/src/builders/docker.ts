/**
 * Docker: `docker build` of each image's Dockerfile against the engine of DOCKER_HOST, BuildKit
 * on in buildkit mode (DOCKER_BUILDKIT=1), the legacy builder's choice left to Docker in plain
 * mode. The engine pulls and pushes with the client's config.json and its own insecure registries.
 */
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { codes, DiagnosticError, error, translateBuildOptions, type Diagnostic } from "@dockwright/core";
import { createMatcher, listContext, parseDockerignore } from "@dockwright/context";
import type { Builder, BuilderOptions, ImageStore, ToolContext } from "./builder.js";
import { csvField } from "./buildctl.js";
import { mustRun, notInstalled, runTool } from "./spawn.js";

export function dockerBuilder(options: BuilderOptions): Builder {
  const { bin, env, cwd } = options;
  const run = (args: string[], context: ToolContext, what: string, extraEnv = {}) => mustRun(bin, args, { env: { ...env, ...extraEnv }, cwd, ...context }, what);

  const store: ImageStore = {
    async has(ref, context) {
      return (await runTool(bin, ["image", "inspect", ref], { env, cwd, signal: context.signal, log: () => {} })).code === 0;
    },
    async tag(from, to, context) {
      await run(["tag", from, to], context, `tag ${from} as ${to}`);
    },
    async push(ref, context) {
      const output = await mustRun(bin, ["push", ref], { env, cwd, ...context, keepStdout: true }, `push ${ref}`);
      // `TAG: digest: sha256:... size: N`, Docker's last line of a push.
      const digest = /digest: (sha256:[0-9a-f]{64})/.exec(output)?.[1];
      if (digest === undefined) throw new Error(`docker push ${ref} printed no digest`);
      return digest;
    },
    async pull(ref, context) {
      await run(["pull", ref], context, `pull ${ref}`);
    },
  };

  return {
    name: "docker",
    backend: "dockerfile",
    unavailable: () => notInstalled("docker", bin, env, "Debian: apt-get install docker.io"),
    store,
    async build(job) {
      const { image, folder, context, staging, base } = job;
      // The Dockerfile goes beside its own ignore file: the context is already filtered, and BuildKit
      // would otherwise apply a staged .dockerignore once more (dropping generated files it excludes).
      const dockerfileDir = path.join(staging, "dockerfile");
      await mkdir(dockerfileDir);
      await copyFile(path.join(folder, "Dockerfile"), path.join(dockerfileDir, "Dockerfile"));
      await writeFile(path.join(dockerfileDir, "Dockerfile.dockerignore"), "# The build context is staged by dockwright, already filtered.\n");
      const buildkit = options.mode === "buildkit" ? { DOCKER_BUILDKIT: "1" } : {};
      if ({ ...env, ...buildkit }["DOCKER_BUILDKIT"] !== "1") {
        const problem = await legacyIgnoreProblem(context);
        if (problem) throw new DiagnosticError([problem]);
      }
      const { args, ignored } = translateBuildOptions(image.parent.kind === "dockerfile" ? image.parent.buildOptions : image.buildOptions, "docker");
      for (const key of ignored) job.log(`dockwright: the build option ${JSON.stringify(key)} is not passed to docker build; pass it by hand.\n`);
      // docker reads --secret as one CSV record, as buildctl does.
      const secrets = image.secrets.flatMap(({ id, source }) =>
        ["--secret", [`id=${id}`, "env" in source ? `env=${source.env}` : `src=${path.resolve(base, source.file)}`].map(csvField).join(",")]);
      await run([
        "build",
        "--file", path.join(dockerfileDir, "Dockerfile"),
        "--tag", image.tag,
        ...(options.noCache ? ["--no-cache"] : []),
        ...(options.network !== undefined ? ["--network", options.network] : []),
        ...secrets,
        ...args.flat(),
        context,
      ], job, `build ${image.tag}`, buildkit);
      return job.push ? { digest: await store.push(image.tag, job) } : {};
    },
  };
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
