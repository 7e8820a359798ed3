/**
 * One image, planned in data-flow order: where its code comes from, its parent, what it
 * installs, its environment, its sources and permissions; then its name, mode, options and
 * checksum. As ZenML's `build_docker_image`, an image whose settings need nothing built re-tags
 * its parent, and a user Dockerfile is built first as an intermediate image.
 */
import { canonicalJson, sha256 } from "../checksum.js";
import { codes, error, show, warning } from "../diagnostics.js";
import type { BuildOptions, ContextSnapshot, GeneratedFile, ImagePlan, Layer, ParentImage, Platform, SourceDecision } from "../ir.js";
import { formatPath } from "../settings.js";
import { compareCodePoints } from "../strings.js";
import { checkImageRef } from "../validate.js";
import { decideSources } from "./code.js";
import { environmentStage, workdir } from "./environment.js";
import type { ImageInput } from "./input.js";
import { installLayers, installStage } from "./install.js";
import { predefinedArgs, readBuildOptions } from "./options.js";
import { parentStage, resolveParent } from "./parent.js";
import { sourcesStage } from "./sources.js";

export async function planImage(input: ImageInput, reuse: boolean): Promise<ImagePlan[]> {
  const { settings: s, base, out, rules } = input;
  const sources = decideSources(s, input.code, rules);
  const names = imageNames(input);

  if (s.skip_build) {
    ignoredBySkipBuild(input);
    const ref = s.parent_image!;
    return [finish(input, { tag: ref, mode: "use-parent", parent: { kind: "image", ref }, layers: [], generated: [], sources, reuse })];
  }

  const install = await installStage(input, sources.mode === "code-repository");
  const requiresBuild = rules.buildTriggers.some((trigger) =>
    trigger === "include_files" ? sources.mode === "include"
      : trigger === "download_files" ? sources.mode === "code-repository" || sources.mode === "artifact-store"
        : isSet((s as Record<string, unknown>)[trigger]));
  const { parent, isDefault } = await parentStage(input);

  if (parent.kind === "dockerfile" && !requiresBuild) {
    // Nothing to add on top of the user's Dockerfile: its image is the result.
    return [finish(input, { tag: names.target, mode: "build", parent, layers: [], generated: [], sources, reuse })];
  }
  if (!requiresBuild) {
    if (isDefault) {
      out.push(error(codes.NO_PARENT_IMAGE, formatPath(base, ["parent_image"]),
        "nothing is installed or copied and no `parent_image` or `dockerfile` is set, so there is no image to run the pipeline in (ZenML refuses this too). " +
          "Set `parent_image` to an image that holds the pipeline's dependencies, or list `requirements`."));
    }
    return [finish(input, { tag: names.target, mode: "retag-parent", parent: await resolveParent(input, parent, input.platform), layers: [], generated: [], sources, reuse })];
  }

  const environment = environmentStage(input, sources.mode !== "include" && sources.mode !== "ignore");
  const installed = installLayers(install, workdir);
  const copied = await sourcesStage(input, sources, installed.afterSources);
  const layers: Layer[] = [
    { kind: "workdir", path: workdir },
    ...(environment.build ? [environment.build] : []),
    ...installed.before,
    environment.zenml,
    ...copied.layers,
    ...(environment.runtime ? [environment.runtime] : []),
  ];
  const options = mainBuildOptions(input);
  const intermediate = parent.kind === "dockerfile"
    ? finish({ ...input, key: `${input.key}.intermediate` }, { tag: names.intermediate, mode: "build", parent, layers: [], generated: [], sources: { mode: "ignore" }, reuse })
    : undefined;
  const image = finish(input, {
    tag: names.target,
    mode: "build",
    parent: intermediate ? { kind: "plan", key: intermediate.key, tag: intermediate.tag } : await resolveParent(input, parent, options.platform),
    ...(intermediate ? { parentChecksum: intermediate.checksum } : {}),
    layers,
    generated: installed.generated,
    sources,
    dockerignore: copied.dockerignore,
    secrets: install.secrets,
    ...(copied.snapshot ? { snapshot: copied.snapshot } : {}),
    ...options,
    reuse,
  });
  return intermediate ? [intermediate, image] : [image];
}

function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return true;
}

/** ZenML's names: `[registry/]repository:tag`, and `<tag>-intermediate-build` for a user Dockerfile's image. */
function imageNames(input: ImageInput): { target: string; intermediate: string } {
  const { settings: s, rules, stack, out, base } = input;
  const repository = s.target_repository ?? stack.registry?.defaultRepository ?? "zenml";
  const scope = [input.pipeline, input.step, "orchestrator"].filter(Boolean).join("-");
  const tag = s.image_tag ?? (rules.sanitizeTags ? sanitizeTag(scope) : scope);
  const registry = stack.registry ? `${stack.registry.uri}/` : "";
  const target = `${registry}${repository}:${tag}`;
  // Releases that cut no tag would name the intermediate past 128 characters, which no builder
  // accepts (its target is checked below): the name is ours, so it is cut as newer releases cut.
  const intermediateTag = rules.sanitizeTags ? sanitizeTag(`${tag}-intermediate-build`) : fitTag(`${tag}-intermediate-build`);
  const path = formatPath(base, [s.image_tag != null ? "image_tag" : "target_repository"]);
  const invalid = checkImageRef(target, path);
  if (invalid) {
    out.push(error(codes.INVALID_IMAGE_REF, path,
      `the image would be named ${show(target)}, which is not a valid image reference: the repository must be lower case (\`[registry/]name\`), the tag at most 128 of \`[A-Za-z0-9_.-]\`.`));
  }
  return { target, intermediate: `${registry}${repository}:${intermediateTag}` };
}

/**
 * `docker_utils.sanitize_tag`: only `[A-Za-z0-9_.-]`, not starting with `.` or `-`. Where ZenML
 * cuts a longer tag at 128 characters (so two images could share it), the end is a hash of the
 * whole name instead, which keeps every image's tag its own.
 */
export function sanitizeTag(tag: string): string {
  return fitTag(tag.replace(/[^a-zA-Z0-9_.-]/g, "").replace(/^[-.]/, "_"));
}

/** A tag of at most 128 characters: a longer one keeps its first 115 and ends in a hash of the whole. */
function fitTag(tag: string): string {
  if (tag.length <= 128) return tag;
  return `${tag.slice(0, 115)}-${sha256(tag).slice("sha256:".length, "sha256:".length + 12)}`;
}

/** The main image's `build_config.build_options`: labels, platform and proxy arguments join the image; the rest goes to the builder. */
function mainBuildOptions(input: ImageInput): { buildOptions: BuildOptions; labels: [string, string][]; platform: Platform } {
  const { settings: s, base, out } = input;
  const at = formatPath(base, ["build_config", "build_options"]);
  const options = readBuildOptions(s.build_config?.build_options ?? {}, at, out);
  const buildArgs = options.buildArgs.filter(([name]) => {
    if (predefinedArgs.has(name)) return true;
    out.push(warning(codes.SETTING_IGNORED, formatPath(at, ["buildargs", name]),
      `ZenML's Dockerfile declares no \`ARG\`, so the build argument ${show(name)} reaches no instruction (only Docker's proxy variables do). Use \`environment\` for a variable the image keeps.`));
    return false;
  });
  if (options.target !== undefined) {
    out.push(error(codes.INVALID_VALUE, formatPath(at, ["target"]), `the generated Dockerfile has one stage, so \`target: ${show(options.target)}\` names none. Remove it.`));
  }
  let platform = input.platform;
  if (options.platform !== undefined) {
    const match = /^(linux|windows)\/([a-z0-9_]+)(?:\/(v[0-9]+))?$/.exec(options.platform);
    if (!match) out.push(error(codes.INVALID_VALUE, formatPath(at, ["platform"]), `${show(options.platform)} is not a platform: write os/arch[/variant], e.g. linux/arm64.`));
    else platform = { os: match[1]!, architecture: match[2]!, ...(match[3] ? { variant: match[3] } : {}) };
  }
  const { labels, platform: _, target: __, ...rest } = options;
  return { buildOptions: { ...rest, buildArgs, labels: [] }, labels: [...labels].sort(([a], [b]) => compareCodePoints(a, b)), platform };
}

function ignoredBySkipBuild(input: ImageInput): void {
  const { settings: s, base, out } = input;
  const needBuild = ["requirements", "required_integrations", "apt_packages", "environment", "user", "dockerfile", "replicate_local_python_environment", "pyproject_path", "local_project_install_command"] as const;
  for (const key of needBuild) {
    if (isSet(s[key])) {
      out.push(warning(codes.SETTING_IGNORED, formatPath(base, [key]),
        `\`${key}\` is ignored because \`skip_build: true\` uses the parent image as is. Remove it, or remove \`skip_build\` to build an image.`));
    }
  }
}

type ImageParts = {
  tag: string;
  mode: ImagePlan["mode"];
  parent: ParentImage;
  layers: Layer[];
  generated: GeneratedFile[];
  sources: SourceDecision;
  reuse: boolean;
  dockerignore?: string[];
  secrets?: ImagePlan["secrets"];
  snapshot?: ContextSnapshot;
  buildOptions?: BuildOptions;
  labels?: [string, string][];
  platform?: Platform;
  /** Checksum of the parent when it is another image of the plan. */
  parentChecksum?: string;
};

const noOptions: BuildOptions = { buildArgs: [], labels: [], cacheFrom: [], extraHosts: [], other: {} };

function finish(input: ImageInput, parts: ImageParts): ImagePlan {
  const image: Omit<ImagePlan, "checksum"> = {
    key: input.key,
    tag: parts.tag,
    mode: parts.mode,
    parent: parts.parent,
    layers: parts.layers,
    config: { ...(input.entrypoint ? { entrypoint: input.entrypoint } : {}), labels: parts.labels ?? [] },
    context: {
      generated: parts.generated,
      dockerignore: parts.dockerignore ?? [],
      ...(parts.snapshot ? { sources: parts.snapshot } : {}),
      writable: parts.layers.some((layer) => layer.kind === "permissions" && layer.writable),
    },
    platform: parts.platform ?? input.platform,
    sources: parts.sources,
    secrets: parts.secrets ?? [],
    buildOptions: parts.buildOptions ?? noOptions,
    reuse: parts.reuse,
  };
  return { ...image, checksum: checksum(input, image, parts.parentChecksum) };
}

/**
 * Covers everything that determines the image: the merged settings (without
 * prevent_build_reuse), the release, the parent, every layer, the generated files, the image
 * config, the build options and, when sources are included, the snapshot digest. Where
 * downloaded code comes from at run time is not part of the image, so images are reused across
 * code changes.
 */
function checksum(input: ImageInput, image: Omit<ImagePlan, "checksum">, parentChecksum: string | undefined): string {
  const { prevent_build_reuse: _, ...settings } = input.given;
  return sha256(canonicalJson({
    release: input.rules.release,
    settings,
    mode: image.mode,
    parent: image.parent,
    parentChecksum: parentChecksum ?? null,
    // A requirements layer installs its generated file's text; where each line came from is for messages.
    layers: image.layers.map((layer) => (layer.kind === "requirements" ? { ...layer, lines: layer.lines.map((line) => line.text) } : layer)),
    config: image.config,
    platform: image.platform,
    generated: image.context.generated,
    sources: image.context.sources?.digest ?? null,
    sourceMode: image.sources.mode,
    secrets: image.secrets,
    buildOptions: image.buildOptions,
  }));
}
