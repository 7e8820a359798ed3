/**
 * Plain-text notes for the images raw LLB cannot build alone: what to build first, and how to build
 * a user Dockerfile.
 */
import { shellJoin, type BuildOptions, type ImagePlan, type ParentImage } from "@dockwright/core";
import { normalizeImageRef } from "./normalize.js";

/** The note beside an image whose parent is another image of the plan. */
export function buildOrderNote(image: ImagePlan, parent: Extract<ParentImage, { kind: "plan" }>): string {
  return [
    `Build order: ${image.tag} starts from docker-image://${normalizeImageRef(parent.tag)},`,
    `the image "${parent.key}" of the same plan (folder ../${parent.key}/). Build and push that image`,
    "first: BuildKit pulls the parent of an LLB build from its registry (so the tag must name one).",
    "`dockwright build` builds a plan's images in this order (buildOrder in ../plan.json).",
    "",
  ].join("\n");
}

type DockerfileParent = Extract<ParentImage, { kind: "dockerfile" }>;

/** The build options the Dockerfile frontend takes, as `--opt` arguments. */
function frontendOptions(options: BuildOptions): string[] {
  return [
    ...options.buildArgs.flatMap(([k, v]) => ["--opt", `build-arg:${k}=${v}`]),
    ...options.labels.flatMap(([k, v]) => ["--opt", `label:${k}=${v}`]),
    ...(options.target !== undefined ? ["--opt", `target=${options.target}`] : []),
    ...(options.noCache ? ["--opt", "no-cache="] : []),
    // What buildx sends for `--pull`.
    ...(options.pull ? ["--opt", "image-resolve-mode=pull"] : []),
    ...(options.network !== undefined ? ["--opt", `force-network-mode=${options.network}`] : []),
    ...options.extraHosts.flatMap(([host, ip]) => ["--opt", `add-hosts=${host}=${ip}`]),
  ];
}

/** Build options with no frontend option, which must be passed by hand. */
function untranslatedOptions(options: BuildOptions): string[] {
  return [...Object.keys(options.other), ...(options.shmSize !== undefined ? ["shm_size"] : []), ...(options.cacheFrom.length > 0 ? ["cache_from"] : [])];
}

/** Where the Dockerfile frontend reads the build context and the Dockerfile's folder. */
export type FrontendDirs = { context: string; dockerfile: string };

/** `buildctl` arguments that build a user Dockerfile as is with BuildKit's Dockerfile frontend. */
export function frontendArgs(image: ImagePlan, parent: DockerfileParent, dirs: FrontendDirs, output: string): string[] {
  const { os, architecture, variant } = image.platform;
  return [
    "build",
    "--frontend", "dockerfile.v0",
    "--local", `context=${dirs.context}`,
    "--local", `dockerfile=${dirs.dockerfile}`,
    "--opt", `filename=${parent.path.slice(parent.path.lastIndexOf("/") + 1)}`,
    "--opt", `platform=${parent.buildOptions.platform ?? [os, architecture, variant].filter(Boolean).join("/")}`,
    ...frontendOptions(parent.buildOptions),
    "--output", output,
  ];
}

/** The note that stands in for llb.pb when an image is a user Dockerfile built as is. */
export function frontendNote(image: ImagePlan, parent: DockerfileParent): string {
  const slash = parent.path.lastIndexOf("/");
  const untranslated = untranslatedOptions(parent.buildOptions);
  const dirs = { context: parent.contextRoot ?? "EMPTY_DIR", dockerfile: slash === -1 ? "." : parent.path.slice(0, slash) || "/" };
  const argv = frontendArgs(image, parent, dirs, `type=image,name=${image.tag},push=true`).slice(1);
  // One flag and its value per line.
  const lines = ["buildctl build"];
  for (let i = 0; i < argv.length; i += 2) lines.push(`  ${shellJoin(argv.slice(i, i + 2))}`);
  return [
    `${image.tag} is the user Dockerfile ${parent.path}, built as is. A Dockerfile needs BuildKit's`,
    "Dockerfile frontend (raw LLB cannot express it), so there is no llb.pb here. From the run configuration's folder:",
    "",
    ...lines.map((line, i) => `  ${line}${i < lines.length - 1 ? " \\" : ""}`),
    "",
    ...(parent.contextRoot === undefined ? ["EMPTY_DIR: an empty directory (the build context is only the Dockerfile)."] : []),
    ...(parent.dockerignore !== undefined
      ? [`BuildKit does not read ${parent.dockerignore}: copy it to ${parent.path}.dockerignore first.`]
      : []),
    ...(untranslated.length > 0 ? [`Build options to pass by hand: ${untranslated.join(", ")}.`] : []),
    "push=true: images built on top of this one pull it from its registry.",
    "",
  ].join("\n");
}
