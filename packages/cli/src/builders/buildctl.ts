/**
 * Building one image's LLB with `buildctl build`: llb.pb on standard input, each local source the
 * graph names as `--local NAME=DIR`, and image-config.json as the exporter attribute
 * `containerimage.config` (BuildKit's exporters copy unknown attributes into the result metadata,
 * so raw LLB gets its image config without a frontend; verified with BuildKit v0.11.6).
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { BuildSecret } from "@dockwright/core";
import { decodeDefinition } from "@dockwright/emit-llb";
import { exitCodes, type Io } from "../io.js";

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
  const output = build.output.type === "oci"
    ? ["type=oci", `dest=${build.output.dest}`]
    : ["type=image", `name=${build.output.name}`, ...(build.output.push ? ["push=true"] : [])];
  const config = `containerimage.config=${JSON.stringify(JSON.parse(imageConfig))}`;
  return [
    ...(build.addr !== undefined ? ["--addr", build.addr] : []),
    "build",
    ...locals.flat(),
    ...(build.secrets ?? []).flatMap(secretArgs),
    ...(build.noCache ? ["--no-cache"] : []),
    "--output", [...output, config].map(csvField).join(","),
  ];
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

/** Runs `bin` (buildctl) on the image's llb.pb; its progress goes to standard error. Returns the exit code. */
export async function buildWithBuildctl(bin: string, build: BuildctlBuild, io: Io): Promise<number> {
  const llb = await readFile(path.join(build.folder, "llb.pb"));
  const config = await readFile(path.join(build.folder, "image-config.json"), "utf8");
  const localNames = decodeDefinition(llb).flatMap(({ Op }) => {
    const identifier = (Op["Op"] as { source?: { identifier?: string } } | null)?.source?.identifier ?? "";
    return identifier.startsWith("local://") ? [identifier.slice("local://".length)] : [];
  });
  const args = buildctlArgs(build, localNames, config);
  return new Promise((resolve) => {
    const child = spawn(bin, args, { cwd: io.cwd, env: io.env, stdio: ["pipe", "pipe", "pipe"] });
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding("utf8");
      stream.on("data", (text: string) => io.stderr(text));
    }
    child.on("error", (e: NodeJS.ErrnoException) => {
      io.stderr(`dockwright: cannot run ${JSON.stringify(bin)} (${e.code}): is buildctl installed? Install BuildKit's ` +
        "buildctl (https://github.com/moby/buildkit/releases) and put it on PATH; a buildkitd must be reachable too.\n");
      resolve(exitCodes.invalidInput);
    });
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    // buildctl may exit before reading all of standard input; its exit code tells why.
    child.stdin.on("error", () => {});
    child.stdin.end(llb);
  });
}
