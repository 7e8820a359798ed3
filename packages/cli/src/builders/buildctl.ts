/**
 * Building one image's LLB with `buildctl build`: llb.pb on standard input, each local source the
 * graph names as `--local NAME=DIR`, and image-config.json as the exporter attribute
 * `containerimage.config` (BuildKit's exporters copy unknown attributes into the result metadata,
 * so raw LLB gets its image config without a frontend; verified with BuildKit v0.11.6).
 */
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { BuildSecret } from "@dockwright/core";
import { decodeDefinition, frontendArgs } from "@dockwright/emit-llb";
import { exitCodes } from "../io.js";
import type { Builder, BuilderOptions } from "./builder.js";
import { mustRun, notInstalled, ToolFailed, type ToolRun } from "./spawn.js";

export type BuildctlOutput =
  /** An OCI image tarball. */
  | { type: "oci"; dest: string }
  /** An image in BuildKit's image store, pushed to its registry when `push`. */
  | { type: "image"; name: string; push?: boolean };

export type BuildctlBuild = {
  /** The image's output folder, holding llb.pb and image-config.json. */
  folder: string;
  /** Directory of each local source (`context`, `generated`); only those the graph names are passed. */
  locals: Record<string, string>;
  output: BuildctlOutput;
  /**
   * The image's build secrets (`image.secrets`): buildctl reads each value from a variable or a
   * file of this machine (a relative file from buildctl's working directory) and serves it to the
   * secret mounts; the value never reaches the arguments.
   */
  secrets?: readonly BuildSecret[];
  /** buildkitd address (`buildctl --addr`); default: buildctl's own ($BUILDKIT_HOST, else its socket). */
  addr?: string;
  /** Where buildctl writes the build's metadata (the pushed `containerimage.digest`). */
  metadataFile?: string;
  /** `buildctl build --no-cache`: no cached result is used. */
  noCache?: boolean;
};

/** The arguments of `buildctl`, for a definition that names `localNames` and an image config (JSON text). */
export function buildctlArgs(build: BuildctlBuild, localNames: readonly string[], imageConfig: string): string[] {
  const locals = localNames.map((name) => {
    const dir = build.locals[name];
    if (dir === undefined) throw new Error(`buildctl: the definition reads local://${name}, but no directory was given for it`);
    return ["--local", `${name}=${dir}`];
  });
  const config = `containerimage.config=${JSON.stringify(JSON.parse(imageConfig))}`;
  return [
    ...(build.addr !== undefined ? ["--addr", build.addr] : []),
    "build",
    ...locals.flat(),
    ...(build.secrets ?? []).flatMap(secretArgs),
    ...(build.noCache ? ["--no-cache"] : []),
    "--output", outputCsv(build.output, [config]),
    ...(build.metadataFile !== undefined ? ["--metadata-file", build.metadataFile] : []),
  ];
}

/** The `--output` record for `output`, with exporter attributes `extra`. */
function outputCsv(output: BuildctlOutput, extra: readonly string[] = []): string {
  const fields = output.type === "oci"
    ? ["type=oci", `dest=${output.dest}`]
    : ["type=image", `name=${output.name}`, ...(output.push ? ["push=true"] : [])];
  return [...fields, ...extra].map(csvField).join(",");
}

/** `--secret id=ID,env=VAR` or `--secret id=ID,src=FILE`, one CSV record like `--output`. */
function secretArgs({ id, source }: BuildSecret): string[] {
  const from = "env" in source ? `env=${source.env}` : `src=${source.file}`;
  return ["--secret", [`id=${id}`, from].map(csvField).join(",")];
}

/** `--output` and `--secret` are each read as one CSV record: a field holding `,` or `"` is quoted, its quotes doubled. */
export function csvField(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/** Runs `bin` (buildctl) on the image's llb.pb, its progress to `run.log`, to `what`. Throws `ToolFailed`. */
export async function buildWithBuildctl(bin: string, build: BuildctlBuild, run: ToolRun, what: string): Promise<void> {
  const llb = await readFile(path.join(build.folder, "llb.pb"));
  const config = await readFile(path.join(build.folder, "image-config.json"), "utf8");
  const localNames = decodeDefinition(llb).flatMap(({ Op }) => {
    const identifier = (Op["Op"] as { source?: { identifier?: string } } | null)?.source?.identifier ?? "";
    return identifier.startsWith("local://") ? [identifier.slice("local://".length)] : [];
  });
  await mustRun(bin, buildctlArgs(build, localNames, config), { ...run, stdin: llb }, what);
}

/**
 * The buildctl builder: each image's llb.pb (or a user Dockerfile through the Dockerfile
 * frontend) on the daemon of --addr, into BuildKit's store, pushed, or an OCI tarball. A tarball
 * is written beside its name and renamed when the build succeeds: a failed build leaves none.
 */
export function buildctlBuilder(options: BuilderOptions): Builder {
  const { bin, env } = options;
  return {
    name: "buildctl",
    backend: "llb",
    unavailable: () => notInstalled("buildctl", bin, env, "BuildKit's release archives; a buildkitd must be reachable too"),
    async build(job) {
      const { image, folder, context, staging, base } = job;
      const tarball = options.oci !== undefined && !job.push ? path.join(options.oci, `${image.key}.tar`) : undefined;
      const partial = tarball && `${tarball}.${process.pid}.partial`;
      const output: BuildctlOutput = partial ? { type: "oci", dest: partial } : { type: "image", name: image.tag, push: job.push };
      if (options.oci !== undefined) await mkdir(options.oci, { recursive: true });
      const metadataFile = path.join(staging, "metadata.json");
      const addr = options.addr !== undefined ? ["--addr", options.addr] : [];
      const what = `build ${image.tag}`;
      try {
        if (image.parent.kind === "dockerfile") {
          const dockerfile = path.dirname(path.resolve(base, image.parent.path));
          const args = frontendArgs(image, image.parent, { context, dockerfile }, outputCsv(output));
          await mustRun(bin, [...addr, ...args, ...(options.noCache ? ["--no-cache"] : []), "--metadata-file", metadataFile], { env, cwd: base, log: job.log, signal: job.signal }, what);
        } else {
          await buildWithBuildctl(bin, { folder, locals: { context, generated: folder }, output, secrets: image.secrets, metadataFile, noCache: options.noCache, ...(options.addr !== undefined ? { addr: options.addr } : {}) },
            { cwd: base, env, log: job.log, signal: job.signal }, what);
        }
        if (tarball && partial) await rename(partial, tarball);
      } finally {
        if (partial) await rm(partial, { force: true });
      }
      if (!job.push) return {};
      const metadata = JSON.parse(await readFile(metadataFile, "utf8")) as Record<string, unknown>;
      const digest = metadata["containerimage.digest"];
      if (typeof digest !== "string") throw new ToolFailed(`${path.basename(bin)} pushed ${image.tag} but named no digest in its metadata.`, exitCodes.buildFailed);
      return { digest };
    },
  };
}
