/**
 * Every field of DockerSettings, one definition each: its type (in pydantic's terms, so that each
 * release's coercions apply), its default, the ZenML releases it exists in, what it expects (for
 * messages and the JSON Schema), and the planning stage that reads it. The TypeScript types of
 * the settings are inferred from this table; `settings.ts` validates with it.
 *
 * Plain data only: migrations between fields live in `settings.ts`, release behaviour in the
 * rules the preset supplies.
 */

/** A value type, as pydantic validates it. `union` is pydantic's left-to-right union. */
export type FieldType =
  | "str"
  | "bool"
  | "any"
  | { readonly list: FieldType }
  | { readonly dict: FieldType }
  | { readonly enum: readonly string[] }
  | { readonly union: readonly (FieldType | { readonly type: FieldType; readonly releases: string })[] }
  | { readonly model: ModelName };

export type ModelDef = { readonly fields: Readonly<Record<string, FieldDef>>; readonly extra: "forbid" | "ignore" };

/** A default that depends on the release: the first entry whose range holds it. */
export type ReleaseDefault = readonly { readonly releases?: string; readonly value: unknown }[];

export type Stage = "parent" | "environment" | "install" | "sources" | "image";

export type FieldDef = {
  readonly type: FieldType;
  /** `null` is accepted (pydantic's Optional). */
  readonly nullable?: boolean;
  readonly default?: unknown;
  readonly defaultByRelease?: ReleaseDefault;
  /** Semver range of the releases that have the field; absent: every release. */
  readonly releases?: string;
  /** Releases that call the field deprecated, and what to write instead. */
  readonly deprecated?: {
    readonly releases: string;
    readonly instead: string;
    /** Only values other than booleans are deprecated (a command where `true` is the new form). */
    readonly onlyNonBoolean?: boolean;
  };
  /** What the field expects, as messages and the JSON Schema say it. */
  readonly expects: string;
  readonly stage?: Stage;
  /** A Dockwright addition, accepted whatever the release. */
  readonly extension?: boolean;
  /** Inside an object: the key must be given. */
  readonly required?: boolean;
};

/** Models that fields are made of, by name: `{model: name}` in a field's type. */
export const modelTable = {
  /** `DockerBuildConfig`, which `build_config` and `parent_image_build_config` share; it ignores unknown keys. */
  "build-config": {
    fields: {
      build_options: { type: { dict: "any" }, default: {}, expects: "a map of build options (docker-py or ZenML names: `buildargs`/`build_args`, `labels`, `platform`, `target`, ...)" },
      dockerignore: { type: "str", nullable: true, expects: "the path of a .dockerignore file" },
    },
    extra: "ignore",
  },
  /** A build secret (a Dockwright addition). */
  secret: {
    fields: {
      id: { type: "str", required: true, expects: "the secret's id" },
      source_env: { type: "str", nullable: true, expects: "a variable of the building machine" },
      source_file: { type: "str", nullable: true, expects: "a file of the building machine" },
      env: { type: "str", nullable: true, expects: "the variable the install commands see" },
      target: { type: "str", nullable: true, expects: "the file path the install commands see" },
    },
    extra: "forbid",
  },
} as const;

export type ModelName = keyof typeof modelTable;

/** The fields, in the order ZenML declares them (the newest field set). */
export const fieldTable = {
  parent_image: { type: "str", nullable: true, stage: "parent", expects: "an image reference such as `python:3.11-slim`" },
  image_tag: { type: "str", nullable: true, releases: ">=0.91.0", stage: "image", expects: "the tag of the image, instead of `<pipeline>[-<step>]-orchestrator`" },
  dockerfile: { type: "str", nullable: true, stage: "parent", expects: "the path of a Dockerfile whose image is the parent" },
  build_context_root: { type: "str", nullable: true, stage: "parent", expects: "the folder that is the build context of `dockerfile`" },
  parent_image_build_config: { type: { model: "build-config" }, nullable: true, releases: ">=0.60.0", stage: "parent", expects: "a map with `build_options` and `dockerignore` for the build of `dockerfile`" },
  skip_build: { type: "bool", default: false, stage: "image", expects: "true or false" },
  prevent_build_reuse: { type: "bool", default: false, releases: ">=0.64.0", stage: "image", expects: "true or false" },
  target_repository: { type: "str", nullable: true, defaultByRelease: [{ releases: "<0.61.0", value: "zenml" }, { value: null }], stage: "image", expects: "a repository name such as `zenml` or `team/zenml`, without registry" },
  python_package_installer: { type: { enum: ["pip", "uv"] }, defaultByRelease: [{ releases: "<0.85.0", value: "pip" }, { value: "uv" }], stage: "install", expects: "`pip` or `uv`" },
  python_package_installer_args: { type: { dict: "any" }, default: {}, releases: ">=0.58.1", stage: "install", expects: "a map of installer flags to a value, or null for a bare flag" },
  disable_automatic_requirements_detection: { type: "bool", default: true, releases: ">=0.82.1", stage: "install", expects: "true or false" },
  replicate_local_python_environment: {
    type: { union: [{ list: "str" }, { enum: ["pip_freeze", "poetry_export"] }, { type: "bool", releases: ">=0.82.1" }] },
    nullable: true,
    stage: "install",
    deprecated: { releases: ">=0.82.1", instead: "write `true` to replicate it with pip freeze, or `pyproject_path` with `pyproject_export_command`", onlyNonBoolean: true },
    expects: "`pip_freeze`, `poetry_export`, a command as a list of strings, or (from 0.82.1) true",
  },
  pyproject_path: { type: "str", nullable: true, releases: ">=0.82.1", stage: "install", expects: "the path of a pyproject.toml" },
  pyproject_export_command: { type: { list: "str" }, nullable: true, releases: ">=0.82.1", stage: "install", expects: "a command as a list of strings; `{directory}` is the pyproject's folder" },
  requirements: { type: { union: ["str", { list: "str" }] }, nullable: true, stage: "install", expects: "a list of requirements, or the path of a requirements file" },
  required_integrations: { type: { list: "str" }, default: [], stage: "install", expects: "a list of ZenML integration names" },
  required_hub_plugins: { type: { list: "str" }, default: [], stage: "install", deprecated: { releases: ">=0.64.0", instead: "list the packages in `requirements`" }, expects: "a list of ZenML Hub plugins" },
  install_stack_requirements: { type: "bool", default: true, stage: "install", expects: "true or false" },
  install_deployment_requirements: { type: "bool", default: true, releases: ">=0.91.0", stage: "install", expects: "true or false (it concerns deployer images, not these)" },
  local_project_install_command: { type: "str", nullable: true, releases: ">=0.82.1", stage: "sources", expects: "a shell command such as `pip install -e .`" },
  apt_packages: { type: { list: "str" }, default: [], stage: "install", expects: "a list of Debian package names" },
  environment: { type: { dict: "any" }, default: {}, stage: "environment", expects: "a map of variable names to values" },
  runtime_environment: { type: { dict: "any" }, default: {}, releases: ">=0.91.1", stage: "environment", expects: "a map of variable names to values, set after `USER`" },
  user: { type: "str", nullable: true, stage: "image", expects: "a user name or UID" },
  build_config: { type: { model: "build-config" }, nullable: true, releases: ">=0.60.0", stage: "sources", expects: "a map with `build_options` and `dockerignore` for the build of the image" },
  allow_including_files_in_images: { type: "bool", default: true, releases: ">=0.64.0", stage: "sources", expects: "true or false" },
  allow_download_from_code_repository: { type: "bool", default: true, releases: ">=0.64.0", stage: "sources", expects: "true or false" },
  allow_download_from_artifact_store: { type: "bool", default: true, releases: ">=0.64.0", stage: "sources", expects: "true or false" },
  build_options: { type: { dict: "any" }, default: {}, stage: "parent", deprecated: { releases: ">=0.82.1", instead: "write `parent_image_build_config.build_options`" }, expects: "a map of build options for the build of `dockerfile`" },
  dockerignore: { type: "str", nullable: true, stage: "sources", deprecated: { releases: ">=0.82.1", instead: "write `build_config.dockerignore`" }, expects: "the path of a .dockerignore file" },
  copy_files: { type: "bool", default: true, stage: "sources", deprecated: { releases: "*", instead: "write `allow_including_files_in_images` (or `source_files` before 0.64)" }, expects: "true or false" },
  copy_global_config: { type: "bool", default: true, deprecated: { releases: "*", instead: "remove it: it has no effect" }, expects: "true or false" },
  source_files: {
    type: { enum: ["include", "download_or_include", "download", "ignore"] },
    nullable: true,
    defaultByRelease: [{ releases: "<0.64.0", value: "download_or_include" }, { value: null }],
    stage: "sources",
    deprecated: { releases: ">=0.64.0", instead: "write the `allow_*` flags" },
    expects: "`include`, `download_or_include`, `download` or `ignore`",
  },
  secrets: {
    type: { list: { model: "secret" } },
    default: [],
    extension: true,
    stage: "install",
    expects: "a list of `{id, source_env or source_file, env, target}`: build secrets for the install commands",
  },
} as const;

// The tables are plain data of the shapes above.
const checked: [Readonly<Record<string, FieldDef>>, Readonly<Record<ModelName, ModelDef>>] = [fieldTable, modelTable];
void checked;

export type FieldName = keyof typeof fieldTable;

/** The TypeScript type of a field type. */
type ValueOf<T> = T extends "str"
  ? string
  : T extends "bool"
    ? boolean
    : T extends "any"
      ? unknown
      : T extends { readonly list: infer I }
        ? ValueOf<I>[]
        : T extends { readonly dict: infer V }
          ? Record<string, ValueOf<V>>
          : T extends { readonly enum: readonly (infer E)[] }
            ? E
            : T extends { readonly union: readonly (infer U)[] }
              ? ValueOf<U extends { readonly type: infer M } ? M : U>
              : T extends { readonly model: infer M extends ModelName }
                ? ObjectValue<(typeof modelTable)[M]["fields"]>
                : never;

type RequiredKeys<O> = { [K in keyof O]: O[K] extends { readonly required: true } ? K : never }[keyof O];
type MemberValue<D> = D extends { readonly type: infer F } ? FieldValue<D, F> : never;
type ObjectValue<O> = { -readonly [K in RequiredKeys<O>]: MemberValue<O[K]> } & { -readonly [K in Exclude<keyof O, RequiredKeys<O>>]?: MemberValue<O[K]> };

type FieldValue<D, T> = D extends { readonly nullable: true } ? ValueOf<T> | null : ValueOf<T>;

/** Settings as given (and migrated): only the keys that were set. */
export type GivenSettings = {
  -readonly [K in FieldName]?: FieldValue<(typeof fieldTable)[K], (typeof fieldTable)[K]["type"]>;
};

/** Fields that always have a value once defaults are filled in. */
type Defaulted = {
  [K in FieldName]: (typeof fieldTable)[K] extends { readonly default: unknown }
    ? K
    : (typeof fieldTable)[K] extends { readonly defaultByRelease: unknown; readonly nullable: true }
      ? never
      : (typeof fieldTable)[K] extends { readonly defaultByRelease: unknown }
        ? K
        : never;
}[FieldName];

/** Merged settings with every default of the release filled in. */
export type Settings = GivenSettings & { [K in Defaulted]-?: NonNullable<GivenSettings[K]> };

export type BuildConfig = NonNullable<GivenSettings["build_config"]>;
export type SecretSetting = NonNullable<GivenSettings["secrets"]>[number];
