/**
 * Lowering of one image's merged settings to the IR, in the reference system's order: parent,
 * WORKDIR /app, environment, apt packages, installer, one requirements layer per requirements
 * file, sources, user.
 */
import { canonicalJson, sha256 } from "./checksum.js";
import { codes, error, show, warning, type Diagnostic } from "./diagnostics.js";
import type { CompilerHooks, IntegrationQuery, RepositoryState, StackComponent } from "./hooks.js";
import type {
  BuildSecret,
  ContextSnapshot,
  GeneratedFile,
  ImagePlan,
  Installer,
  Layer,
  ParentImage,
  Platform,
  RequirementsOrigin,
  SecretMount,
  SourceDecision,
} from "./ir.js";
import { loadIncludes, resolveRequirements, type RequirementSource, type ResolvedFile } from "./requirements.js";
import { formatPath, type GivenSettings, type Settings } from "./settings.js";
import {
  checkAptPackage,
  checkEnvName,
  checkImageRef,
  checkInstallerArg,
  checkMountTarget,
  checkSecretId,
  checkPathSetting,
  checkShellCommand,
  checkSingleLine,
  checkUser,
} from "./validate.js";

export const workdir = "/app";

/** The host gives the compiler what lives on a file system; core itself touches none. */
export interface CompileHost {
  /** The source root, as the host names it (for plugins that run commands there). */
  readonly root: string;
  /**
   * Text of a file named by a setting, relative to the source root. Undefined when it does not
   * exist; throws a `DiagnosticError` when the path leaves the source root.
   */
  readFile(path: string, settingPath: string): Promise<string | undefined>;
  /**
   * Whether a folder named by a setting exists; throws a `DiagnosticError` when the path leaves
   * the source root, or names a file. Hosts without one check only the path's form.
   */
  folder?(path: string, settingPath: string): Promise<boolean>;
  /** The build context of the source root, filtered by the given or the root's .dockerignore. */
  context(dockerignore: string | undefined, settingPath: string): Promise<{ patterns: string[]; snapshot: ContextSnapshot; diagnostics: Diagnostic[] }>;
  /** Packs the source root for download from an artifact store; absent when the host cannot. */
  codeArchive?(): Promise<{ path: string; sha256: string; diagnostics: Diagnostic[] }>;
}

export type ImageRequest = {
  hooks: CompilerHooks;
  host: CompileHost;
  settings: Settings;
  /** The merged settings as given (without defaults): part of the checksum. */
  given: GivenSettings;
  /** Settings path of the scope whose settings these are. */
  base: string;
  key: string;
  tag: string;
  pythonVersion: string;
  platform: Platform;
  entrypoint?: string[];
  stack: StackComponent[];
  /** The `codeRepository` hook's answer for the source root, asked once per compile. */
  repository: () => Promise<RepositoryState | undefined>;
};

/** Generated requirements files, named as the reference system names them. */
const requirementFiles: Record<RequirementsOrigin, string> = {
  local: ".zenml_local_requirements",
  pyproject: ".zenml_pyproject_requirements",
  user: ".zenml_user_requirements",
  integrations: ".zenml_integration_requirements",
  stack: ".zenml_stack_integration_requirements",
};

class Collector {
  readonly diagnostics: Diagnostic[] = [];
  add(d: Diagnostic | undefined): void {
    if (d) this.diagnostics.push(d);
  }
}

/** Plans the images one settings scope needs: an intermediate image for a user Dockerfile, then the image itself. */
export async function planImage(request: ImageRequest): Promise<{ images: ImagePlan[]; diagnostics: Diagnostic[] }> {
  const out = new Collector();
  const { settings: s, base } = request;
  const at = (...path: (string | number)[]) => formatPath(base, path);

  const parent = await resolveParent(request, out);
  if (s.skip_build && s.parent_image) {
    reportIgnoredBySkipBuild(s, base, out);
    const image = finish(request, { parent: { kind: "image", ref: s.parent_image }, layers: [], generated: [], skipBuild: true, sources: { mode: "ignore" } });
    return { images: [image], diagnostics: out.diagnostics };
  }

  const layers: Layer[] = [{ kind: "workdir", path: workdir }];

  const environment = environmentLayer(s, base, out);
  if (environment) layers.push(environment);

  const requirements = await gatherRequirements(request, out);
  const apt = [...new Set([...s.apt_packages, ...requirements.apt])].sort();
  s.apt_packages.forEach((name, i) => out.add(checkAptPackage(name, at("apt_packages", i))));
  if (apt.length > 0) layers.push({ kind: "apt", packages: apt });

  const installer = installerOf(s, base, out);
  const { secrets, mounts } = secretsOf(s, base, out);
  if (s.python_package_installer === "uv" && requirements.files.length > 0) {
    layers.push({ kind: "installer", tool: "uv", secrets: mounts });
  }
  const generated: GeneratedFile[] = [];
  const installRequirements = ({ origin, afterSources, lines }: ResolvedFile) => {
    // Local paths are installed from the copied sources, from a file of their own.
    const file = afterSources ? requirementFiles[origin].replace(/_requirements$/, "_path_requirements") : requirementFiles[origin];
    generated.push({ path: file, contents: lines.map((line) => `${line.text}\n`).join("") });
    layers.push({ kind: "requirements", origin, file, dest: `${workdir}/${file}`, installer, secrets: mounts, lines });
  };
  requirements.files.filter((f) => !f.afterSources).forEach(installRequirements);
  const afterSources = requirements.files.filter((f) => f.afterSources);

  const sources = await decideSources(request, out);
  let snapshot: ContextSnapshot | undefined;
  let dockerignore: string[] = [];
  if (sources.mode === "include") {
    const dockerignorePath = s.build_config.dockerignore;
    if (dockerignorePath !== undefined) out.add(checkPathSetting(dockerignorePath, at("build_config", "dockerignore"), "a .dockerignore file"));
    const context = await request.host.context(dockerignorePath, at("build_config", "dockerignore"));
    out.diagnostics.push(...context.diagnostics);
    snapshot = context.snapshot;
    dockerignore = context.patterns;
    layers.push(s.user ? { kind: "sources", chown: s.user } : { kind: "sources" });
    afterSources.forEach(installRequirements);
    if (s.local_project_install_command !== undefined) {
      out.add(checkShellCommand(s.local_project_install_command, at("local_project_install_command")));
      layers.push({ kind: "run", purpose: "local_project_install_command", shell: s.local_project_install_command });
    }
  } else if (afterSources.length > 0) {
    const where = afterSources.flatMap((f) => f.lines.flatMap((line) => line.from)).join(", ");
    out.add(error(codes.INSTALL_COMMAND_WITHOUT_FILES, at("allow_including_files_in_images"),
      `requirements that point at local paths (${where}) are installed from the source files, but this image does not include them. ` +
        "Set `allow_download_from_code_repository: false` and `allow_download_from_artifact_store: false` so that the sources are included, or install those packages from an index."));
  }
  if (s.user) {
    out.add(checkUser(s.user, at("user")));
    layers.push({ kind: "user", name: s.user });
  }

  const intermediate = parent.kind === "dockerfile" ? intermediateImage(request, parent) : undefined;
  const onlyWorkdir = layers.length === 1 && generated.length === 0;
  if (intermediate && onlyWorkdir) {
    // Nothing to add on top of the user's Dockerfile: its image is the result.
    return { images: [intermediate], diagnostics: out.diagnostics };
  }
  const image = finish(request, {
    parent: intermediate ? { kind: "plan", key: intermediate.key, tag: intermediate.tag } : parent,
    ...(intermediate ? { parentChecksum: intermediate.checksum } : {}),
    layers,
    generated,
    skipBuild: false,
    sources,
    dockerignore,
    secrets,
    ...(snapshot ? { snapshot } : {}),
  });
  return { images: intermediate ? [intermediate, image] : [image], diagnostics: out.diagnostics };
}

/** The ENV layer: names upper-cased as in the reference system, values one line each. */
function environmentLayer(s: Settings, base: string, out: Collector): Layer | undefined {
  const at = (name: string) => formatPath(base, ["environment", name]);
  const vars: [string, string][] = [];
  const seen = new Map<string, string>();
  for (const [name, value] of Object.entries(s.environment)) {
    const upper = name.toUpperCase();
    out.add(checkEnvName(name, at(name)));
    if (upper.startsWith("DOCKWRIGHT_")) {
      // Dockwright's own: the code download variables, and a helper of the Buildah script.
      out.add(error(codes.INVALID_ENV_NAME, at(name), `${show(name)} starts with DOCKWRIGHT_, a prefix Dockwright reserves for its own variables. Rename it.`));
    }
    out.add(checkSingleLine(value, at(name), "a Dockerfile ENV value"));
    if (secretName.test(upper) && value !== "") {
      out.add(warning(codes.SECRET_IN_ENVIRONMENT, at(name),
        `${upper} looks like a credential, and an environment value is stored in the image for anyone who pulls it. ` +
          "Pass it as a build secret instead: `secrets: [{id, source_env, env}]` reaches only the install commands."));
    }
    const earlier = seen.get(upper);
    if (earlier !== undefined) {
      out.add(error(codes.DUPLICATE_ENV_NAME, at(name),
        `${show(name)} and ${show(earlier)} both become ${upper} (names are upper-cased, as in the reference system). Keep one of them.`));
    }
    seen.set(upper, name);
    vars.push([upper, value]);
  }
  // Values are escaped, so no variable refers to another: sorted by name, order carries no meaning.
  vars.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return vars.length > 0 ? { kind: "env", vars } : undefined;
}

async function resolveParent(request: ImageRequest, out: Collector): Promise<ParentImage> {
  const { settings: s, base } = request;
  if (s.dockerfile !== undefined) {
    const at = formatPath(base, ["dockerfile"]);
    const invalid = checkPathSetting(s.dockerfile, at, "a Dockerfile");
    if (invalid) {
      out.add(invalid);
      return { kind: "image", ref: "scratch" };
    }
    const text = await request.host.readFile(s.dockerfile, at);
    if (text === undefined) {
      out.add(error(codes.FILE_NOT_FOUND, at, `${show(s.dockerfile)} does not exist in the source root ${show(request.host.root)}. Fix the path (it is relative to the source root).`));
    }
    // The build reads the context root and the ignore file: both must lie inside the source root.
    if (s.build_context_root !== undefined) {
      const at = formatPath(base, ["build_context_root"]);
      const invalid = checkPathSetting(s.build_context_root, at, "a build context");
      out.add(invalid);
      if (!invalid && request.host.folder && !(await request.host.folder(s.build_context_root, at))) {
        out.add(error(codes.FILE_NOT_FOUND, at, `the folder ${show(s.build_context_root)} does not exist in the source root ${show(request.host.root)}. Fix the path (it is relative to the source root).`));
      }
    }
    const config = s.parent_image_build_config;
    checkBuildOptions(config.build_options ?? {}, formatPath(base, ["parent_image_build_config", "build_options"]), out);
    if (config.dockerignore !== undefined) {
      const at = formatPath(base, ["parent_image_build_config", "dockerignore"]);
      const invalid = checkPathSetting(config.dockerignore, at, "a .dockerignore file");
      out.add(invalid);
      if (!invalid && (await request.host.readFile(config.dockerignore, at)) === undefined) {
        out.add(error(codes.FILE_NOT_FOUND, at, `the .dockerignore file ${show(config.dockerignore)} does not exist in the source root ${show(request.host.root)}. Fix the path.`));
      }
    }
    return {
      kind: "dockerfile",
      path: s.dockerfile,
      dockerfile: text ?? "",
      ...(s.build_context_root !== undefined ? { contextRoot: s.build_context_root } : {}),
      buildOptions: config.build_options ?? {},
      ...(config.dockerignore !== undefined ? { dockerignore: config.dockerignore } : {}),
    };
  }
  if (s.parent_image !== undefined) {
    out.add(checkImageRef(s.parent_image, formatPath(base, ["parent_image"])));
    return { kind: "image", ref: s.parent_image };
  }
  const ref = request.hooks.parentImage.call(undefined, { pythonVersion: request.pythonVersion, platform: request.platform });
  if (ref === undefined) {
    out.add(error(codes.NO_PARENT_IMAGE, formatPath(base, ["parent_image"]),
      "no parent image: set `parent_image` (e.g. `python:3.11-slim`) or `dockerfile`, or use a preset plugin that chooses a default (the ZenML plugin)."));
    return { kind: "image", ref: "scratch" };
  }
  return { kind: "image", ref };
}

/** Build args and labels reach `docker build`, `buildah bud` and `buildctl` as `NAME=value` arguments. */
function checkBuildOptions(options: Record<string, unknown>, base: string, out: Collector): void {
  for (const key of ["buildargs", "labels"]) {
    const map = options[key];
    if (map === undefined) continue;
    if (map === null || typeof map !== "object" || Array.isArray(map)) {
      out.add(error(codes.INVALID_TYPE, `${base}.${key}`, `got ${show(map)}; expected a map of names to values.`));
      continue;
    }
    for (const [name, value] of Object.entries(map)) {
      const at = formatPath(`${base}.${key}`, [name]);
      if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) {
        out.add(error(codes.INVALID_VALUE, at, `${show(name)} is not a build ${key === "labels" ? "label" : "argument"} name: use letters, digits, \`_\`, \`.\` and \`-\`.`));
      }
      if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
        out.add(error(codes.INVALID_TYPE, at, `got ${show(value)}; expected a string, a number or a boolean.`));
      } else {
        out.add(checkSingleLine(String(value), at, "a build argument"));
      }
    }
  }
}

function intermediateImage(request: ImageRequest, parent: Extract<ParentImage, { kind: "dockerfile" }>): ImagePlan {
  return finish(
    { ...request, key: `${request.key}-parent`, tag: `${request.tag}-intermediate-build` },
    { parent, layers: [], generated: [], skipBuild: false, sources: { mode: "ignore" } },
  );
}

function reportIgnoredBySkipBuild(s: Settings, base: string, out: Collector): void {
  const needBuild: (keyof Settings)[] = ["requirements", "required_integrations", "apt_packages", "environment", "user", "dockerfile", "replicate_local_python_environment", "pyproject_path", "local_project_install_command"];
  for (const key of needBuild) {
    const value = s[key];
    const empty = value === undefined || (Array.isArray(value) && value.length === 0) ||
      (typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0);
    if (!empty) {
      out.add(warning(codes.SETTING_IGNORED, formatPath(base, [key]),
        `${show(value)} is ignored because \`skip_build: true\` uses the parent image as is. Remove it, or remove \`skip_build\` to build an image.`));
    }
  }
}

function installerOf(s: Settings, base: string, out: Collector): Installer {
  const args: string[] = [];
  let noCache = false;
  // Flags are independent of each other: sorted, so reordering the settings changes nothing.
  for (const [name, value] of Object.entries(s.python_package_installer_args).sort(([a], [b]) => (a < b ? -1 : 1))) {
    out.add(checkInstallerArg(name, value, formatPath(base, ["python_package_installer_args", name])));
    if (name === "no-cache-dir" && value === null) noCache = true;
    else args.push(value === null ? `--${name}` : `--${name}=${value}`);
  }
  return { tool: s.python_package_installer, args, noCache };
}

/** Names of variables that usually hold credentials. */
const secretName = /(^|_)(TOKEN|PASSWORD|PASSWD|SECRET|API_KEY|ACCESS_KEY|PRIVATE_KEY|SECRET_KEY|CREDENTIALS?)$/;

function secretsOf(s: Settings, base: string, out: Collector): { secrets: BuildSecret[]; mounts: SecretMount[] } {
  const secrets: BuildSecret[] = [];
  const mounts: SecretMount[] = [];
  const ids = new Set<string>();
  s.secrets.forEach((secret, i) => {
    const at = (key: string) => formatPath(base, ["secrets", i, key]);
    const problems = [
      checkSecretId(secret.id, at("id")),
      ids.has(secret.id) ? error(codes.INVALID_VALUE, at("id"), `the secret id ${show(secret.id)} is used twice; give each secret its own id.`) : undefined,
      (secret.source_env === undefined) === (secret.source_file === undefined)
        ? error(codes.INVALID_VALUE, formatPath(base, ["secrets", i]), "a secret needs exactly one source: `source_env` (a variable of the building machine) or `source_file` (a file there).")
        : undefined,
      secret.source_env !== undefined ? checkEnvName(secret.source_env, at("source_env")) : undefined,
      secret.source_file !== undefined ? checkPathSetting(secret.source_file, at("source_file"), "a secret file") : undefined,
      secret.env !== undefined ? checkEnvName(secret.env, at("env")) : undefined,
      secret.target !== undefined ? checkMountTarget(secret.target, at("target")) : undefined,
    ].filter((d) => d !== undefined);
    ids.add(secret.id);
    if (problems.length > 0) return void out.diagnostics.push(...problems);
    secrets.push({ id: secret.id, source: secret.source_env !== undefined ? { env: secret.source_env } : { file: secret.source_file! } });
    mounts.push({ id: secret.id, target: secret.target ?? `/run/secrets/${secret.id}`, ...(secret.env ? { env: secret.env } : {}) });
  });
  return { secrets, mounts };
}

type Requirements = { files: ResolvedFile[]; apt: string[] };

/** Every requirement source in install order, resolved together: includes inlined, duplicates merged, conflicts found. */
async function gatherRequirements(request: ImageRequest, out: Collector): Promise<Requirements> {
  const { settings: s, base, hooks, host } = request;
  const sources: RequirementSource[] = [];
  const add = (origin: RequirementsOrigin, text: string, from: string, file?: string) => {
    sources.push({ origin, text, from, ...(file !== undefined ? { file } : {}) });
  };

  const method = s.replicate_local_python_environment;
  if (method !== undefined) {
    const path = formatPath(base, ["replicate_local_python_environment"]);
    add("local", await localEnvironment(request, { kind: "replicate", method, root: host.root, path }, out), path);
  }
  let pyproject = s.pyproject_path;
  let userFile = typeof s.requirements === "string" ? s.requirements : undefined;
  let userFilePath = formatPath(base, ["requirements"]);
  if (!s.disable_automatic_requirements_detection && s.requirements === undefined && pyproject === undefined) {
    // The reference system's automatic detection: the first of these in the source root.
    const at = formatPath(base, ["disable_automatic_requirements_detection"]);
    if ((await host.readFile("requirements.txt", at)) !== undefined) [userFile, userFilePath] = ["requirements.txt", at];
    else if ((await host.readFile("pyproject.toml", at)) !== undefined) pyproject = "pyproject.toml";
  }
  if (pyproject !== undefined) {
    const path = formatPath(base, ["pyproject_path"]);
    out.add(checkPathSetting(pyproject, path, "a pyproject.toml"));
    const command = s.pyproject_export_command;
    add("pyproject", await localEnvironment(request, { kind: "pyproject", pyproject, root: host.root, path, ...(command ? { command } : {}) }, out), path);
  }

  if (Array.isArray(s.requirements)) {
    s.requirements.forEach((line, i) => {
      const path = formatPath(base, ["requirements", i]);
      out.add(checkSingleLine(line, path, "a requirements file line"));
      add("user", line, path);
    });
  } else if (userFile !== undefined) {
    const invalid = checkPathSetting(userFile, userFilePath, "a requirements file");
    const text = invalid ? undefined : await host.readFile(userFile, userFilePath);
    if (invalid) out.add(invalid);
    else if (text === undefined) {
      out.add(error(codes.FILE_NOT_FOUND, userFilePath, `the requirements file ${show(userFile)} does not exist in the source root ${show(host.root)}. Fix the path (it is relative to the source root), or give the requirements as a list.`));
    } else {
      add("user", text, userFilePath, userFile);
    }
  }

  const query: IntegrationQuery = { pythonVersion: request.pythonVersion, platform: request.platform };
  const required = integrationClosure(hooks, s.required_integrations, query, (name, i) =>
    out.add(error(codes.UNKNOWN_INTEGRATION, formatPath(base, ["required_integrations", i]),
      `unknown integration ${show(name)}${suggestIntegration(hooks, name)}. Check the name, or add a plugin that provides it.`)));
  const stackNames: string[] = [];
  if (s.install_stack_requirements) {
    request.stack.forEach((component, i) => {
      const name = hooks.stackComponent.call(component);
      if (typeof name === "string") stackNames.push(name);
      else if (name === undefined) {
        out.add(warning(codes.UNKNOWN_STACK_FLAVOR, `stack.components[${i}]`,
          `no plugin knows the ${component.type} flavor ${show(component.flavor)}, so it adds no requirements. Check the flavor, or list its packages in \`requirements\`.`));
      }
    });
  }
  const stack = integrationClosure(hooks, stackNames, query, (name) =>
    out.add(error(codes.UNKNOWN_INTEGRATION, "stack.components",
      `a stack component needs the integration ${show(name)}, which no plugin provides. Add a plugin that provides it, or set \`install_stack_requirements: false\`.`)));
  // Requirements of both lists merge into the integrations file.
  for (const [name, lines] of required.requirements) add("integrations", lines.join("\n"), `integration ${name}`);
  for (const [name, lines] of stack.requirements) add("stack", lines.join("\n"), `integration ${name}`);

  const includes = await loadIncludes(sources, (path, from) => host.readFile(path, from));
  const resolved = resolveRequirements(sources, query, includes);
  out.diagnostics.push(...resolved.diagnostics);
  return { files: resolved.files, apt: [...stack.apt, ...required.apt] };
}

async function localEnvironment(
  request: ImageRequest,
  localRequest: Parameters<CompilerHooks["localEnvironment"]["promise"]>[0],
  out: Collector,
): Promise<string> {
  const result = await request.hooks.localEnvironment.promise(localRequest);
  if (result === undefined) {
    out.add(error(codes.LOCAL_ENVIRONMENT_UNAVAILABLE, localRequest.path,
      "no plugin replicates the local Python environment. Add `@dockwright/plugin-local-env` to the compiler's plugins, or remove this setting."));
    return "";
  }
  if ("diagnostics" in result) {
    out.diagnostics.push(...result.diagnostics);
    return "";
  }
  return result.requirements;
}

/** Requirements and apt packages of integrations and every integration they need (webpack's closure over a growing Set). */
function integrationClosure(
  hooks: CompilerHooks,
  names: readonly string[],
  query: IntegrationQuery,
  unknown: (name: string, index: number) => void,
): { requirements: Map<string, string[]>; apt: string[] } {
  const requirements = new Map<string, string[]>();
  const apt: string[] = [];
  const pending = new Set(names);
  let index = 0;
  for (const name of pending) {
    const spec = hooks.integration.get(name)?.call(query);
    if (!spec) unknown(name, index);
    else {
      requirements.set(name, spec.requirements);
      apt.push(...(spec.aptPackages ?? []));
      spec.integrations?.forEach((n) => pending.add(n));
    }
    index++;
  }
  return { requirements, apt };
}

function suggestIntegration(hooks: CompilerHooks, name: string): string {
  const lower = name.toLowerCase().replaceAll("-", "_");
  return lower !== name && hooks.integration.get(lower) ? ` (did you mean \`${lower}\`?)` : "";
}

/**
 * Where the pipeline's code comes from: a clean, pushed code repository; else an archive in the
 * artifact store; else the image itself; else nowhere, when nothing is allowed.
 */
async function decideSources(request: ImageRequest, out: Collector): Promise<SourceDecision> {
  const { settings: s, base, host } = request;
  let problems: string[] = ["no code repository contains the source root"];
  if (s.allow_download_from_code_repository) {
    const repository = await request.repository();
    if (repository && repository.problems.length === 0) {
      return { mode: "code-repository", url: repository.url, commit: repository.commit, subdirectory: repository.subdirectory };
    }
    if (repository) problems = repository.problems;
  }
  if (s.allow_download_from_artifact_store && host.codeArchive) {
    const archive = await host.codeArchive();
    out.diagnostics.push(...archive.diagnostics);
    return { mode: "artifact-store", archive: archive.path, sha256: archive.sha256 };
  }
  if (s.allow_including_files_in_images) return { mode: "include" };
  if (s.allow_download_from_code_repository || s.allow_download_from_artifact_store) {
    const reason = s.allow_download_from_code_repository
      ? `the code cannot be downloaded from a code repository: ${problems.join("; ")}`
      : "the code cannot be uploaded to an artifact store by this host";
    out.add(error(codes.CODE_DOWNLOAD_UNAVAILABLE, formatPath(base, ["allow_including_files_in_images"]),
      `${reason}, and including files in the image is not allowed. Fix that, or set \`allow_including_files_in_images: true\` (older: \`source_files: download_or_include\`).`));
  }
  return { mode: "ignore" };
}

type ImageParts = {
  parent: ParentImage;
  layers: Layer[];
  generated: GeneratedFile[];
  skipBuild: boolean;
  sources: SourceDecision;
  dockerignore?: string[];
  secrets?: BuildSecret[];
  snapshot?: ContextSnapshot;
  /** Checksum of the parent when it is another image of the plan. */
  parentChecksum?: string;
};

/** Where the runtime unpacks downloaded code. */
const codeDir = "/app/code";

/**
 * Tells the runtime in the image where downloaded code comes from and where it goes. Only facts
 * that outlive a commit: the commit and the archive are in the plan, so the image (and its
 * checksum) stays the same across code changes.
 */
function codeLayers(sources: SourceDecision): Layer[] {
  if (sources.mode !== "code-repository" && sources.mode !== "artifact-store") return [];
  const vars: [string, string][] = [["DOCKWRIGHT_CODE_SOURCE", sources.mode], ["DOCKWRIGHT_CODE_DIR", codeDir]];
  if (sources.mode === "code-repository") {
    vars.push(["DOCKWRIGHT_CODE_REPOSITORY", sources.url], ["DOCKWRIGHT_CODE_SUBDIRECTORY", sources.subdirectory]);
  }
  return [{ kind: "env", vars }];
}

function finish(request: ImageRequest, parts: ImageParts): ImagePlan {
  const labels: [string, string][] = [];
  const image: Omit<ImagePlan, "checksum"> = {
    key: request.key,
    tag: request.tag,
    parent: parts.parent,
    layers: [...parts.layers, ...codeLayers(parts.sources)],
    config: { ...(request.entrypoint ? { entrypoint: request.entrypoint } : {}), labels },
    context: {
      generated: parts.generated,
      dockerignore: parts.dockerignore ?? [],
      ...(parts.snapshot ? { sources: parts.snapshot } : {}),
    },
    platform: request.platform,
    sources: parts.sources,
    skipBuild: parts.skipBuild,
    secrets: parts.secrets ?? [],
    reuse: !request.settings.prevent_build_reuse,
  };
  return { ...image, checksum: checksum(request.given, image, parts.parentChecksum) };
}

/**
 * Covers everything that determines the image: the merged settings (without
 * prevent_build_reuse), the parent, every layer, the generated files, the image config and,
 * when sources are included, the snapshot digest. Where downloaded code comes from at run time
 * is not part of the image, so images are reused across code changes.
 */
function checksum(given: GivenSettings, image: Omit<ImagePlan, "checksum">, parentChecksum: string | undefined): string {
  const { prevent_build_reuse: _, ...settings } = given;
  return sha256(canonicalJson({
    settings,
    parent: image.parent,
    parentChecksum: parentChecksum ?? null,
    layers: image.layers,
    config: image.config,
    platform: image.platform,
    generated: image.context.generated,
    sources: image.context.sources?.digest ?? null,
    sourceMode: image.sources.mode,
    skipBuild: image.skipBuild,
    secrets: image.secrets,
  }));
}
