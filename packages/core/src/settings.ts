/**
 * DockerSettings: the zod schema of both field generations, migration of deprecated fields to the
 * newer set, defaults, and the checks that span several fields.
 *
 * Keys keep the reference system's snake_case names so that existing configuration files work.
 */
import { z } from "zod";
import { codes, error, show, warning, type Diagnostic } from "./diagnostics.js";

const buildConfig = z.strictObject({
  build_options: z.record(z.string(), z.unknown()).optional(),
  dockerignore: z.string().optional(),
});

const secret = z.strictObject({
  id: z.string(),
  source_env: z.string().optional(),
  source_file: z.string().optional(),
  env: z.string().optional(),
  target: z.string().optional(),
});

const sourceFiles = z.enum(["include", "download_or_include", "download", "ignore"]);
const installerArg = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const envValue = z.union([z.string(), z.number(), z.boolean()]);

/** Every field of DockerSettings, older (0.40-0.55) and newer generation. */
const dockerSettingsSchema = z.strictObject({
  parent_image: z.string().optional(),
  dockerfile: z.string().optional(),
  build_context_root: z.string().optional(),
  parent_image_build_config: buildConfig.optional(),
  build_config: buildConfig.optional(),
  skip_build: z.boolean().optional(),
  prevent_build_reuse: z.boolean().optional(),
  target_repository: z.string().optional(),
  python_package_installer: z.enum(["pip", "uv"]).optional(),
  python_package_installer_args: z.record(z.string(), installerArg).optional(),
  replicate_local_python_environment: z
    .union([z.enum(["pip_freeze", "poetry_export"]), z.array(z.string()).min(1), z.boolean(), z.null()])
    .optional(),
  pyproject_path: z.string().optional(),
  pyproject_export_command: z.array(z.string()).min(1).optional(),
  local_project_install_command: z.string().optional(),
  disable_automatic_requirements_detection: z.boolean().optional(),
  requirements: z.union([z.string(), z.array(z.string())]).optional(),
  required_integrations: z.array(z.string()).optional(),
  install_stack_requirements: z.boolean().optional(),
  apt_packages: z.array(z.string()).optional(),
  environment: z.record(z.string(), envValue).optional(),
  user: z.string().optional(),
  allow_including_files_in_images: z.boolean().optional(),
  allow_download_from_code_repository: z.boolean().optional(),
  allow_download_from_artifact_store: z.boolean().optional(),
  // Beyond the reference system: credentials for package installs, never stored in the image.
  secrets: z.array(secret).optional(),
  // Older generation, migrated below.
  source_files: sourceFiles.optional(),
  copy_files: z.boolean().optional(),
  copy_global_config: z.boolean().optional(),
  build_options: z.record(z.string(), z.unknown()).optional(),
  dockerignore: z.string().optional(),
  required_hub_plugins: z.array(z.string()).optional(),
});

type RawDockerSettings = z.infer<typeof dockerSettingsSchema>;

/** The JSON Schema of DockerSettings, for editors (`dockwright schema`). */
export function settingsJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(dockerSettingsSchema, { io: "input" }) as Record<string, unknown>;
  const properties = schema["properties"] as Record<string, Record<string, unknown>>;
  for (const [key, description] of Object.entries(expects)) {
    if (properties[key]) properties[key] = { description: `Expects ${description}.`, ...properties[key] };
  }
  return { ...schema, title: "DockerSettings" };
}

/** What each field expects, for messages. */
const expects: Record<string, string> = {
  parent_image: "an image reference such as `python:3.11-slim`",
  dockerfile: "a path to a Dockerfile, relative to the source root",
  build_context_root: "a directory path, relative to the source root",
  parent_image_build_config: "a map with `build_options` (a map) and `dockerignore` (a path)",
  build_config: "a map with `build_options` (a map) and `dockerignore` (a path)",
  skip_build: "true or false",
  prevent_build_reuse: "true or false",
  target_repository: "a repository name such as `zenml` or `registry.example.com/team/zenml`",
  python_package_installer: "`pip` or `uv`",
  python_package_installer_args: "a map of flag names to a string, a number or null (a bare flag)",
  replicate_local_python_environment: "`pip_freeze`, `poetry_export`, true, or a command as a list of strings",
  pyproject_path: "a path to a pyproject.toml, relative to the source root",
  pyproject_export_command: "a command as a list of strings",
  local_project_install_command: "a shell command such as `pip install -e .`",
  disable_automatic_requirements_detection: "true or false",
  requirements: "a list of requirement strings, or the path of a requirements file",
  required_integrations: "a list of integration names",
  install_stack_requirements: "true or false",
  apt_packages: "a list of Debian package names",
  environment: "a map of variable names to strings, numbers or booleans",
  user: "a user name or UID",
  allow_including_files_in_images: "true or false",
  allow_download_from_code_repository: "true or false",
  allow_download_from_artifact_store: "true or false",
  secrets: "a list of `{id, source_env or source_file, env, target}`: build secrets for requirements installs",
  source_files: "`include`, `download_or_include`, `download` or `ignore`",
  copy_files: "true or false",
  copy_global_config: "true or false",
  build_options: "a map of build options",
  dockerignore: "a path to a .dockerignore file, relative to the source root",
  required_hub_plugins: "a list of hub plugin names",
};

const settingsKeys: readonly string[] = Object.keys(dockerSettingsSchema.shape);

/** Settings after migration: only the newer field set, only the keys the user gave. */
export type GivenSettings = {
  parent_image?: string;
  dockerfile?: string;
  build_context_root?: string;
  parent_image_build_config?: BuildConfig;
  build_config?: BuildConfig;
  skip_build?: boolean;
  prevent_build_reuse?: boolean;
  target_repository?: string;
  python_package_installer?: "pip" | "uv";
  python_package_installer_args?: Record<string, string | null>;
  replicate_local_python_environment?: LocalEnvironmentMethod | null;
  pyproject_path?: string;
  pyproject_export_command?: string[];
  local_project_install_command?: string;
  disable_automatic_requirements_detection?: boolean;
  requirements?: string | string[];
  required_integrations?: string[];
  install_stack_requirements?: boolean;
  apt_packages?: string[];
  environment?: Record<string, string>;
  user?: string;
  allow_including_files_in_images?: boolean;
  allow_download_from_code_repository?: boolean;
  allow_download_from_artifact_store?: boolean;
  secrets?: SecretSetting[];
};

/** A build secret: where its value comes from at build time, and how an install sees it. */
export type SecretSetting = { id: string; source_env?: string; source_file?: string; env?: string; target?: string };

export type BuildConfig = { build_options?: Record<string, unknown>; dockerignore?: string };
export type LocalEnvironmentMethod = "pip_freeze" | "poetry_export" | string[];

/** Merged settings with every default filled in; the fields without a default stay optional. */
export type Settings = GivenSettings &
  Required<
    Pick<
      GivenSettings,
      | "parent_image_build_config"
      | "build_config"
      | "skip_build"
      | "prevent_build_reuse"
      | "target_repository"
      | "python_package_installer"
      | "python_package_installer_args"
      | "disable_automatic_requirements_detection"
      | "required_integrations"
      | "install_stack_requirements"
      | "apt_packages"
      | "environment"
      | "allow_including_files_in_images"
      | "allow_download_from_code_repository"
      | "allow_download_from_artifact_store"
      | "secrets"
    >
  > & { replicate_local_python_environment?: LocalEnvironmentMethod };

const defaultInstallerArgs: Record<"pip" | "uv", Record<string, string | null>> = {
  pip: { "no-cache-dir": null, "default-timeout": "60" },
  uv: { "no-cache-dir": null },
};

/** Formats a path array as `a.b[2]["odd key"]`. */
export function formatPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(String(part))) out += out ? `.${String(part)}` : String(part);
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const part of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

/** Edit distance, for did-you-mean hints. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The closest known name, when it is close enough to be a likely typo. */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function zodIssueDiagnostics(issue: z.core.$ZodIssue, raw: unknown, base: string): Diagnostic[] {
  if (issue.code === "unrecognized_keys") {
    const parentPath = issue.path;
    const known =
      parentPath.length === 0 ? settingsKeys : parentPath[0] === "secrets" ? Object.keys(secret.shape) : Object.keys(buildConfig.shape);
    return issue.keys.map((key) => {
      const hint = didYouMean(key, known);
      return error(
        codes.UNKNOWN_KEY,
        formatPath(base, [...parentPath, key]),
        `unknown setting ${show(key)}.` +
          (hint ? ` Did you mean \`${hint}\`?` : ` Known settings: ${known.join(", ")}.`),
      );
    });
  }
  const field = String(issue.path[0] ?? "");
  const value = valueAt(raw, issue.path);
  const expected = expects[field] ?? issue.message;
  return [
    error(
      codes.INVALID_TYPE,
      formatPath(base, issue.path),
      `got ${show(value)}; expected ${expected}.`,
    ),
  ];
}

/**
 * Parses one scope's DockerSettings and migrates the older field set to the newer one.
 * `base` is the settings path of the scope, e.g. `steps.trainer.settings.docker`.
 */
export function parseSettings(raw: unknown, base: string): { settings: GivenSettings; diagnostics: Diagnostic[] } {
  if (raw === undefined || raw === null) return { settings: {}, diagnostics: [] };
  const parsed = dockerSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    return { settings: {}, diagnostics: parsed.error.issues.flatMap((i) => zodIssueDiagnostics(i, raw, base)) };
  }
  return migrate(parsed.data, base);
}

function migrate(raw: RawDockerSettings, base: string): { settings: GivenSettings; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const at = (key: string) => formatPath(base, [key]);
  const {
    source_files,
    copy_files,
    copy_global_config,
    build_options,
    dockerignore,
    required_hub_plugins,
    replicate_local_python_environment,
    python_package_installer_args,
    environment,
    ...rest
  } = raw;
  const settings: GivenSettings = { ...rest };

  if (environment) {
    settings.environment = Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v)]));
  }
  if (python_package_installer_args) {
    settings.python_package_installer_args = Object.fromEntries(
      Object.entries(python_package_installer_args).map(([k, v]) => [k, v === null ? null : String(v)]),
    );
  }

  if (replicate_local_python_environment === true) {
    diagnostics.push(
      warning(codes.DEPRECATED_FIELD, at("replicate_local_python_environment"),
        "`true` is deprecated and means `pip_freeze`; write `replicate_local_python_environment: pip_freeze`."),
    );
    settings.replicate_local_python_environment = "pip_freeze";
  } else if (replicate_local_python_environment === false) {
    settings.replicate_local_python_environment = null;
  } else if (replicate_local_python_environment !== undefined) {
    settings.replicate_local_python_environment = replicate_local_python_environment;
  }

  // copy_files predates source_files: true = include, false = ignore.
  let sourceMode = source_files;
  if (copy_files !== undefined) {
    const mapped = copy_files ? "include" : "ignore";
    diagnostics.push(
      warning(codes.DEPRECATED_FIELD, at("copy_files"),
        `\`copy_files: ${copy_files}\` is deprecated; write \`allow_including_files_in_images: ${copy_files}\`` +
          (source_files ? " (ignored here because `source_files` is also set)." : ".")),
    );
    sourceMode ??= mapped;
  }
  if (copy_global_config !== undefined) {
    diagnostics.push(
      warning(codes.DEPRECATED_FIELD, at("copy_global_config"),
        "`copy_global_config` is deprecated and has no effect: the global configuration is never copied. Remove it."),
    );
  }
  if (sourceMode !== undefined) {
    const flags = {
      include: { include: true, repo: false },
      download_or_include: { include: true, repo: true },
      download: { include: false, repo: true },
      ignore: { include: false, repo: false },
    }[sourceMode];
    const newStyleGiven =
      rest.allow_including_files_in_images !== undefined ||
      rest.allow_download_from_code_repository !== undefined ||
      rest.allow_download_from_artifact_store !== undefined;
    if (newStyleGiven) {
      diagnostics.push(
        warning(codes.CONFLICTING_FIELDS, at(source_files !== undefined ? "source_files" : "copy_files"),
          `\`${source_files !== undefined ? "source_files" : "copy_files"}\` is ignored because \`allow_*\` flags are set; remove it.`),
      );
    } else {
      if (source_files !== undefined) {
        diagnostics.push(
          warning(codes.DEPRECATED_FIELD, at("source_files"),
            `\`source_files: ${source_files}\` is deprecated; write allow_including_files_in_images: ${flags.include}, ` +
              `allow_download_from_code_repository: ${flags.repo}, allow_download_from_artifact_store: false.`),
        );
      }
      settings.allow_including_files_in_images = flags.include;
      settings.allow_download_from_code_repository = flags.repo;
      settings.allow_download_from_artifact_store = false;
    }
  }

  if (build_options !== undefined || dockerignore !== undefined) {
    const moved: BuildConfig = {
      ...(build_options !== undefined ? { build_options } : {}),
      ...(dockerignore !== undefined ? { dockerignore } : {}),
    };
    const names = [build_options !== undefined && "build_options", dockerignore !== undefined && "dockerignore"].filter(Boolean);
    for (const name of names) {
      diagnostics.push(
        warning(codes.DEPRECATED_FIELD, at(name as string),
          `\`${name}\` is deprecated; write it under \`build_config\`` +
            (raw.dockerfile ? " (and `parent_image_build_config` for the build of `dockerfile`)." : ".")),
      );
    }
    if (settings.build_config) {
      diagnostics.push(
        warning(codes.CONFLICTING_FIELDS, at("build_config"),
          `\`build_config\` is set, so the deprecated ${names.join(" and ")} ${names.length > 1 ? "are" : "is"} ignored; remove ${names.length > 1 ? "them" : "it"}.`),
      );
    } else {
      settings.build_config = moved;
      if (raw.dockerfile && !settings.parent_image_build_config) settings.parent_image_build_config = moved;
    }
  }

  if (required_hub_plugins !== undefined) {
    diagnostics.push(
      warning(codes.SETTING_IGNORED, at("required_hub_plugins"),
        "the ZenML Hub was removed; `required_hub_plugins` has no effect. List the packages in `requirements` instead."),
    );
  }
  return { settings, diagnostics };
}

/**
 * Deep merge of step settings over pipeline settings: maps merge recursively, lists and scalars
 * replace. Keys whose value is undefined do not override.
 */
export function mergeSettings<T extends Record<string, unknown>>(base: T, over: T): T {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const prev = out[key];
    out[key] = isMap(prev) && isMap(value) ? mergeSettings(prev, value) : value;
  }
  return out as T;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Fills defaults. */
export function withDefaults(given: GivenSettings): Settings {
  const installer = given.python_package_installer ?? "pip";
  return {
    ...given,
    parent_image_build_config: given.parent_image_build_config ?? {},
    build_config: given.build_config ?? {},
    skip_build: given.skip_build ?? false,
    prevent_build_reuse: given.prevent_build_reuse ?? false,
    target_repository: given.target_repository ?? "zenml",
    python_package_installer: installer,
    python_package_installer_args: { ...defaultInstallerArgs[installer], ...given.python_package_installer_args },
    replicate_local_python_environment: given.replicate_local_python_environment ?? undefined,
    disable_automatic_requirements_detection: given.disable_automatic_requirements_detection ?? true,
    required_integrations: given.required_integrations ?? [],
    install_stack_requirements: given.install_stack_requirements ?? true,
    apt_packages: given.apt_packages ?? [],
    environment: given.environment ?? {},
    allow_including_files_in_images: given.allow_including_files_in_images ?? true,
    allow_download_from_code_repository: given.allow_download_from_code_repository ?? true,
    allow_download_from_artifact_store: given.allow_download_from_artifact_store ?? true,
    secrets: given.secrets ?? [],
  };
}

/** Checks that span several fields, on merged settings. `base` names the scope that produced them. */
export function checkCombinations(settings: Settings, base: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const at = (key: string) => formatPath(base, [key]);
  if (settings.skip_build && !settings.parent_image) {
    diagnostics.push(
      error(codes.SKIP_BUILD_WITHOUT_PARENT, at("skip_build"),
        "`skip_build: true` uses the parent image as is, but no `parent_image` is set. Set `parent_image` to a prebuilt image, or remove `skip_build`."),
    );
  }
  if (settings.local_project_install_command !== undefined && !settings.allow_including_files_in_images) {
    diagnostics.push(
      error(codes.INSTALL_COMMAND_WITHOUT_FILES, at("local_project_install_command"),
        `${show(settings.local_project_install_command)} installs the local project, which needs the source files in the image, ` +
          "but including files is not allowed. Set `allow_including_files_in_images: true` (or `source_files: include`), or remove the command."),
    );
  }
  if (settings.dockerfile && settings.parent_image) {
    diagnostics.push(
      warning(codes.SETTING_IGNORED, at("parent_image"),
        `${show(settings.parent_image)} is ignored because \`dockerfile\` is set: the image built from the Dockerfile is the parent. Remove one of them.`),
    );
  }
  return diagnostics;
}
