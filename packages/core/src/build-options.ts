/**
 * Build options (`BuildOptions`, read from docker-py's or ZenML's names) as each build tool
 * takes them, from one table: `docker build` and `buildah bud` flags, and the attributes of
 * BuildKit's Dockerfile frontend (`buildctl build --opt`, or a client's frontend attributes).
 * Every builder and every backend that prints a build command translates through it.
 */
import type { BuildOptions } from "./ir.js";

export type BuildTool = "docker" | "buildah" | "frontend";

/** One tool's form of the options: flags (argument pairs or single flags) or attributes, and the options it has none for. */
export type TranslatedOptions = {
  /** `docker` and `buildah`: arguments, e.g. `["--build-arg", "A=1"]`; `frontend`: `[attribute, value]`. */
  args: string[][];
  /** Settings names of the options the tool has no form for (`cache_from`, `shm_size`, unknown ones). */
  ignored: string[];
};

type Row = {
  option: string;
  set: (o: BuildOptions) => boolean;
  flags?: (o: BuildOptions) => string[][];
  /** `docker` only: Buildah's bud has no such flag. */
  dockerOnly?: boolean;
  frontend?: (o: BuildOptions) => string[][];
};

const rows: Row[] = [
  {
    option: "build_args",
    set: (o) => o.buildArgs.length > 0,
    flags: (o) => o.buildArgs.map(([k, v]) => ["--build-arg", `${k}=${v}`]),
    frontend: (o) => o.buildArgs.map(([k, v]) => [`build-arg:${k}`, v]),
  },
  {
    option: "labels",
    set: (o) => o.labels.length > 0,
    flags: (o) => o.labels.map(([k, v]) => ["--label", `${k}=${v}`]),
    frontend: (o) => o.labels.map(([k, v]) => [`label:${k}`, v]),
  },
  { option: "target", set: (o) => o.target !== undefined, flags: (o) => [["--target", o.target!]], frontend: (o) => [["target", o.target!]] },
  // The frontend's platform is the image's (an attribute every build sets); its caller adds it.
  { option: "platform", set: (o) => o.platform !== undefined, flags: (o) => [["--platform", o.platform!]], frontend: () => [] },
  { option: "network", set: (o) => o.network !== undefined, flags: (o) => [["--network", o.network!]], frontend: (o) => [["force-network-mode", o.network!]] },
  { option: "no_cache", set: (o) => o.noCache === true, flags: () => [["--no-cache"]], frontend: () => [["no-cache", ""]] },
  // What buildx sends for `--pull`.
  { option: "pull", set: (o) => o.pull === true, flags: () => [["--pull"]], frontend: () => [["image-resolve-mode", "pull"]] },
  { option: "shm_size", set: (o) => o.shmSize !== undefined, flags: (o) => [["--shm-size", `${o.shmSize}b`]] },
  { option: "cache_from", set: (o) => o.cacheFrom.length > 0, dockerOnly: true, flags: (o) => o.cacheFrom.map((ref) => ["--cache-from", ref]) },
  {
    option: "extra_hosts",
    set: (o) => o.extraHosts.length > 0,
    flags: (o) => o.extraHosts.map(([host, ip]) => ["--add-host", `${host}:${ip}`]),
    // One attribute, a comma-separated list: a second `add-hosts` would replace the first.
    frontend: (o) => [["add-hosts", o.extraHosts.map(([host, ip]) => `${host}=${ip}`).join(",")]],
  },
];

export function translateBuildOptions(options: BuildOptions, tool: BuildTool): TranslatedOptions {
  const args: string[][] = [];
  const ignored: string[] = [];
  for (const row of rows) {
    if (!row.set(options)) continue;
    const translate = tool === "frontend" ? row.frontend : tool === "buildah" && row.dockerOnly ? undefined : row.flags;
    if (translate) args.push(...translate(options));
    else ignored.push(row.option);
  }
  return { args, ignored: [...ignored, ...Object.keys(options.other)] };
}
