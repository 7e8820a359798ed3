/**
 * What an image means at run time, read two ways: from ZenML's own output (the oracle's JSON: its
 * Dockerfile text, requirements files and build calls) and from Dockwright's plan. Both come out
 * as one `View`, so the differential suite compares meaning, not form. Every place where
 * Dockwright deliberately differs in form is normalized in `deliberate` below, and nowhere else.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseDockerignore } from "@dockwright/context";
import { evaluateEnv, type BuildPlan, type EnvValue, type ImagePlan } from "@dockwright/core";
import { dockerEnvValue } from "../../packages/core/src/dockerenv.ts";

/** The environment a parent image is taken to have, so that `$PATH` and friends evaluate. */
export const parentEnvironment: Readonly<Record<string, string>> = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/root", LANG: "C.UTF-8" };

export type RequirementsView = { name: string; lines: string[]; tool: "pip" | "uv"; flags: string[] };

export type ImageView = {
  kind: "zenml" | "dockerfile" | "tag_parent" | "skip_build";
  name: string;
  parent?: string;
  /** The environment the installs run with, and the image's final one. */
  installEnv?: Record<string, string>;
  env?: Record<string, string>;
  apt?: string[];
  uv?: boolean;
  requirements?: RequirementsView[];
  /** The source root is copied into /app. */
  sources?: boolean;
  /** The .dockerignore patterns the copy applies (besides ZenML's `!.zen`), when it copies the sources. */
  dockerignore?: string[];
  download?: "code-repository" | "artifact-store" | "none";
  /** What happens to /app after the copy, in order: `chmod a+rw`, `run <command>`, `chown <user>`. */
  after?: string[];
  user?: string;
  labels?: Record<string, string>;
  platform?: string;
  /** Build arguments that reach a RUN step (Docker's predefined proxy variables). */
  buildArgs?: Record<string, string>;
  parentBuild?: { dockerfile: string; contextRoot: string | null; dockerignore: string | null; buildArgs: Record<string, string> };
};

export type View =
  | { accepted: false; why: string }
  | { accepted: true; images: ImageView[]; steps: Record<string, number | null>; upload: boolean };

type OracleImage = {
  key: string;
  build?: string;
  image: string;
  same_image_as?: string | null;
  include_files?: boolean;
  download_files?: boolean;
  download_from_code_repository?: boolean;
  parent_image?: string;
  dockerfile?: string | null;
  requirements_files?: { name: string; content: string }[];
  apt_packages?: string[];
  build_options?: Record<string, unknown> | null;
  build_context?: { root: string | null; dockerignore: string | null } | null;
  parent_build?: { build_context: { root: string | null; dockerignore: string | null; files: string[] }; build_options: Record<string, unknown> | null } | null;
  settings?: Record<string, unknown>;
};
export type OracleOutput = { error?: string; images?: OracleImage[]; steps?: Record<string, string | null>; code_upload?: boolean; zenml: string };

const predefined = new Set(["HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY"].flatMap((n) => [n, n.toLowerCase()]));

/** pip's logical lines of a requirements text: comments and blank lines dropped, continuations joined. */
export function logicalLines(text: string): string[] {
  return text.replace(/\\\r?\n/g, "").split(/\r?\n/).map((l) => l.replace(/(^|\s)#.*$/, "").trim()).filter((l) => l !== "");
}

/** ZenML's output as a view. A Dockerfile Docker would not build means the configuration is rejected. */
export function zenmlView(output: OracleOutput, sourceRoot: string): View {
  if (output.error) return { accepted: false, why: output.error };
  const images: ImageView[] = [];
  const index = new Map<string, number>();
  for (const image of output.images ?? []) {
    if (image.same_image_as) {
      index.set(image.key, index.get(image.same_image_as)!);
      continue;
    }
    const view = zenmlImage(image, sourceRoot);
    if ("why" in view) return { accepted: false, why: view.why };
    index.set(image.key, images.length);
    images.push(view);
  }
  const steps = Object.fromEntries(Object.entries(output.steps ?? {}).map(([step, key]) => [step, key === null ? null : index.get(key)!]));
  // The code must be uploaded when an image downloads it from the artifact store (ZenML before
  // 0.85 uploads it also when every image includes the code, which changes nothing).
  return { accepted: true, images, steps, upload: images.some((image) => image.download === "artifact-store") };
}

/** Docker's image references: a lower-case repository, a tag of at most 128 `[A-Za-z0-9_.-]`. */
const reference = /^[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/;

function zenmlImage(image: OracleImage, sourceRoot: string): ImageView | { why: string } {
  const kind = image.build as ImageView["kind"];
  if (kind !== "skip_build" && !reference.test(image.image)) return { why: `Docker cannot tag \`${image.image}\`: it is not an image reference` };
  if (kind !== "zenml") {
    const view: ImageView = { kind, name: image.image };
    if (image.parent_image) view.parent = image.parent_image;
    if (kind === "dockerfile" && image.parent_build) view.parentBuild = zenmlParentBuild(image.parent_build, sourceRoot);
    return view;
  }
  const env = new Map(Object.entries(parentEnvironment));
  let installEnv: Record<string, string> | undefined;
  const view: ImageView = {
    kind, name: image.image, apt: [...new Set(image.apt_packages ?? [])].sort(), uv: false, requirements: [], sources: image.include_files === true,
    download: image.download_from_code_repository ? "code-repository" : image.download_files ? "artifact-store" : "none", after: [],
  };
  const files = new Map((image.requirements_files ?? []).map((f) => [f.name, f.content]));
  let copied = false;
  for (const line of (image.dockerfile ?? "").split("\n")) {
    const [instruction = "", ...rest] = line.split(" ");
    const argument = rest.join(" ");
    if (instruction === "FROM") {
      // No generated Dockerfile declares an ARG, so a variable in FROM is blank: Docker stops there.
      if (argument.includes("$")) return { why: `Docker cannot build \`${line}\`: no ARG gives the variable a value` };
      view.parent = argument;
    }
    else if (instruction === "ENV") {
      const eq = argument.indexOf("=");
      const parsed = dockerEnvValue(argument.slice(0, eq), argument.slice(eq + 1));
      if ("problem" in parsed) return { why: `Docker cannot build \`${line}\`: ${parsed.problem}` };
      env.set(argument.slice(0, eq), evaluateEnv(parsed.value, (name) => env.get(name)));
    } else if (instruction === "COPY") copied ||= argument === ". .";
    else if (instruction === "USER") view.user = argument;
    else if (instruction === "RUN") {
      installEnv ??= Object.fromEntries(env);
      const apt = /^apt-get update && apt-get install -y --no-install-recommends (.*)$/.exec(argument);
      const install = /^(uv pip|pip) install (.*?) ?-r (\S+)$/.exec(argument);
      if (apt) {
        // apt-get finds no package whose name breaks Debian's rules (upper case, blanks): the build stops.
        const bad = shellWords(apt[1]!).find((word) => !/^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?(=\S+)?$/.test(word));
        if (bad !== undefined) return { why: `apt-get cannot install \`${bad}\`: it is not a Debian package name` };
        continue;
      }
      else if (argument === "pip install uv") view.uv = true;
      else if (install && !copied) {
        const name = install[3]!;
        const flags = shellWords(install[2]!);
        // ZenML writes a value of a flag unquoted: a list's Python text splits into stray words, and
        // a boolean becomes `--flag=True`, a value pip and uv refuse for a switch.
        const stray = flags.find((flag) => !flag.startsWith("-") || /^--[^=]+=(True|False)$/.test(flag));
        if (stray !== undefined) return { why: `the installer cannot run \`${argument}\`: it refuses \`${stray}\`` };
        let lines = logicalLines(files.get(name) ?? "");
        if (name === ".zenml_user_requirements" && typeof image.settings?.["requirements"] === "string") {
          lines = deliberate.includes(lines, path.dirname(path.resolve(sourceRoot, image.settings["requirements"])));
        }
        view.requirements!.push({ name, lines, tool: install[1] === "pip" ? "pip" : "uv", flags: flags.sort() });
      } else if (argument === "chmod -R a+rw .") view.after!.push("chmod a+rw");
      else if (argument.startsWith("chown -R ")) view.after!.push(`chown ${argument.slice("chown -R ".length, -2)}`);
      else view.after!.push(`run ${argument}`);
    }
  }
  view.installEnv = sorted(installEnv ?? Object.fromEntries(env));
  view.env = sorted(Object.fromEntries(env));
  if (view.sources) {
    // ZenML's build context reads the given file, else the root's .dockerignore.
    const given = image.build_context?.dockerignore;
    const file = given ? path.resolve(sourceRoot, given) : path.join(sourceRoot, ".dockerignore");
    view.dockerignore = existsSync(file) ? withoutZen(parseDockerignore(readFileSync(file, "utf8"))) : [];
  }
  if (image.parent_build) view.parentBuild = zenmlParentBuild(image.parent_build, sourceRoot);
  const options = image.build_options ?? {};
  view.labels = sorted(stringMap(options["labels"]));
  if (typeof options["platform"] === "string") view.platform = options["platform"];
  view.buildArgs = sorted(Object.fromEntries(Object.entries(stringMap(options["buildargs"] ?? options["build_args"])).filter(([name]) => predefined.has(name))));
  return view;
}

function zenmlParentBuild(build: NonNullable<OracleImage["parent_build"]>, sourceRoot: string): NonNullable<ImageView["parentBuild"]> {
  const dockerfile = build.build_context.files.find((f) => f.startsWith("Dockerfile <- "))!.slice("Dockerfile <- ".length);
  const options = build.build_options ?? {};
  return {
    dockerfile: dockerfile.replace("{SOURCE_ROOT}", sourceRoot),
    contextRoot: build.build_context.root?.replace("{SOURCE_ROOT}", sourceRoot) ?? null,
    dockerignore: build.build_context.dockerignore,
    buildArgs: stringMap(options["buildargs"] ?? options["build_args"]),
  };
}

/** The words sh makes of a command's arguments (quotes and backslashes; no expansions in these lines). */
function shellWords(text: string): string[] {
  const words = text.match(/(?:'[^']*'|"(?:\\.|[^"\\])*"|\\.|[^\s'"\\])+/g) ?? [];
  return words.map((word) => word.replace(/'([^']*)'|"((?:\\.|[^"\\])*)"|\\(.)/g, (_, single, double, escaped) =>
    single ?? (double !== undefined ? double.replace(/\\([$`"\\\n])/g, "$1") : escaped)));
}

function stringMap(value: unknown): Record<string, string> {
  return value && typeof value === "object" ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)])) : {};
}

/** Dockwright's plan as a view. `resolve` makes a settings path absolute, as the host does. */
export function dockwrightView(plan: BuildPlan | undefined, resolve: (path: string) => string): View {
  if (!plan) return { accepted: false, why: "Dockwright rejects the configuration" };
  const images: ImageView[] = [];
  const index = new Map<string, number>();
  for (const image of plan.images) {
    if (image.key.endsWith(".intermediate")) continue;
    index.set(image.key, images.length);
    images.push(dockwrightImage(image, plan, resolve));
  }
  return {
    accepted: true,
    images,
    steps: Object.fromEntries(Object.entries(plan.steps).map(([step, key]) => [step, key === null ? null : index.get(key)!])),
    upload: plan.code.archive !== undefined,
  };
}

function dockwrightImage(image: ImagePlan, plan: BuildPlan, resolve: (path: string) => string): ImageView {
  if (image.mode === "use-parent") return { kind: "skip_build", name: image.tag, parent: refOf(image) };
  if (image.mode === "retag-parent") return { kind: "tag_parent", name: image.tag, parent: refOf(image) };
  if (image.parent.kind === "dockerfile") {
    return { kind: "dockerfile", name: image.tag, parentBuild: dockwrightParentBuild(image.parent, resolve) };
  }
  const env = new Map(Object.entries(parentEnvironment));
  let installEnv: Record<string, string> | undefined;
  const view: ImageView = {
    kind: "zenml", name: image.tag, parent: refOf(image), apt: [], uv: false, requirements: [], sources: false,
    download: image.sources.mode === "code-repository" || image.sources.mode === "artifact-store" ? image.sources.mode : "none", after: [],
  };
  const files = new Map(image.context.generated.map((f) => [f.path, f.contents]));
  for (const layer of image.layers) {
    if (layer.kind !== "env" && layer.kind !== "workdir") installEnv ??= Object.fromEntries(env);
    switch (layer.kind) {
      case "env":
        for (const [name, value] of layer.vars) env.set(name, evaluate(value, env));
        break;
      case "apt":
        view.apt = layer.packages;
        break;
      case "installer":
        view.uv = true;
        break;
      case "requirements":
        view.requirements!.push({
          name: layer.file,
          lines: logicalLines(files.get(layer.file) ?? ""),
          tool: layer.installer.tool,
          flags: [...(layer.installer.noCache ? ["--no-cache-dir"] : []), ...layer.installer.args].sort(),
        });
        break;
      case "sources":
        view.sources = true;
        break;
      case "permissions":
        if (layer.writable) view.after!.push("chmod a+rw");
        if (layer.owner) view.after!.push(`chown ${deliberate.owner(layer.owner)}`);
        break;
      case "run":
        view.after!.push(`run ${layer.shell}`);
        break;
      case "user":
        view.user = layer.name;
        break;
      case "workdir":
        break;
    }
  }
  view.installEnv = sorted(installEnv ?? Object.fromEntries(env));
  view.env = sorted(Object.fromEntries(env));
  if (view.sources) view.dockerignore = withoutZen(image.context.dockerignore);
  if (image.parent.kind === "plan") {
    const { key } = image.parent;
    const intermediate = plan.images.find((i) => i.key === key);
    if (intermediate?.parent.kind === "dockerfile") view.parentBuild = dockwrightParentBuild(intermediate.parent, resolve);
  }
  view.labels = sorted(Object.fromEntries(image.config.labels));
  if (image.platform.architecture !== "amd64" || image.platform.variant) view.platform = [image.platform.os, image.platform.architecture, image.platform.variant].filter(Boolean).join("/");
  view.buildArgs = sorted(Object.fromEntries(image.buildOptions.buildArgs));
  return view;
}

/** Variables by name: their order in the image's configuration does not change a run. */
function sorted(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function withoutZen(patterns: readonly string[]): string[] {
  return patterns.filter((p) => p !== "!.zen" && p !== "!/.zen");
}

function evaluate(value: EnvValue, env: Map<string, string>): string {
  return evaluateEnv(value, (name) => env.get(name));
}

function refOf(image: ImagePlan): string {
  return image.parent.kind === "image" ? image.parent.ref : image.parent.kind === "plan" ? image.parent.tag : image.parent.path;
}

function dockwrightParentBuild(parent: Extract<ImagePlan["parent"], { kind: "dockerfile" }>, resolve: (path: string) => string): NonNullable<ImageView["parentBuild"]> {
  return {
    dockerfile: resolve(parent.path),
    contextRoot: parent.contextRoot === undefined ? null : resolve(parent.contextRoot),
    dockerignore: parent.dockerignore ?? null,
    buildArgs: Object.fromEntries(parent.buildOptions.buildArgs),
  };
}

/**
 * Where Dockwright differs from ZenML in form only, each normalized here:
 * - the copy and the permissions: `COPY --chown=<user>:0 . .` of a context staged writable, then
 *   only what is not so already (`find ... -exec chmod a+rw` / `chown`), instead of a second layer
 *   with every file (`chmod -R a+rw .`, `chown -R <user> .`): the files, modes and owners are the
 *   same. The owner is written `<user>:0` (root's group, which `chown <user>` keeps).
 * - installer flags are compared as sets (pip and uv read them in any order); `--no-cache-dir`
 *   becomes a cache mount in BuildKit builds, which stores nothing in the image either.
 * - the `apt_packages` are installed once each, sorted; apt installs the same set.
 * - ZenML also copies its generated Dockerfile to /app/Dockerfile (`COPY . .` of a context it is
 *   in); Dockwright's images do not carry their build definition.
 * - apt's package lists and the installers' caches are not left in the image.
 * - a Dockerfile ZenML would write but Docker cannot build (a value with a stray quote, a
 *   blank in an unquoted value, `FROM ${VAR}`) is a configuration Dockwright rejects, with why.
 * - where ZenML would cut a tag longer than 128 characters (so two images could share it), the
 *   tag ends in a hash of the whole name instead.
 * - a requirements file's `-r other.txt` line: ZenML copies the line into the image, where the
 *   include names a file the image does not have when the install runs; Dockwright installs the
 *   lines of the host's file it names (the requirements the user meant).
 */
export const deliberate = {
  owner: (owner: string): string => owner.replace(/:0$/, ""),
  includes(lines: string[], dir: string): string[] {
    return lines.flatMap((line) => {
      const include = /^(?:-r|--requirement)(?:\s*=?\s*)(\S+)$/.exec(line);
      if (!include) return [line];
      const file = path.resolve(dir, include[1]!);
      return deliberate.includes(logicalLines(readFileSync(file, "utf8")), path.dirname(file));
    });
  },
};

/** The differences between two views, as readable lines; empty when they mean the same. */
export function compareViews(zenml: View, ours: View): string[] {
  if (!zenml.accepted || !ours.accepted) {
    return zenml.accepted === ours.accepted ? [] : [zenml.accepted ? `ZenML accepts it; ${ours.accepted ? "" : ours.why}` : `ZenML rejects it (${zenml.why.slice(0, 200)}); Dockwright accepts it`];
  }
  const out: string[] = [];
  const same = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${what}: ZenML ${JSON.stringify(a)}, Dockwright ${JSON.stringify(b)}`);
  };
  same("images", zenml.images.length, ours.images.length);
  same("steps", zenml.steps, ours.steps);
  zenml.images.forEach((image, i) => {
    const mine = ours.images[i];
    if (!mine) return;
    for (const key of Object.keys({ ...image, ...mine }) as (keyof ImageView)[]) same(`image ${i} ${key}`, image[key], mine[key]);
  });
  return out;
}
