/**
 * Every extension point of the Compiler, declared once. Plugins tap these by name, as in webpack.
 */
import { AsyncSeriesBailHook, HookMap, SyncBailHook, SyncWaterfallHook } from "tapable";
import type { Diagnostic } from "./diagnostics.js";
import type { GivenSettings } from "./fields.js";
import type { ImagePlan, Platform } from "./ir.js";
import type { BuildRules } from "./rules.js";

/** Which settings a hook call is about. */
export type Scope = { kind: "pipeline" } | { kind: "step"; step: string };

/** What decides the variant of an integration: the image's target, never the host. */
export type IntegrationQuery = { release: string; pythonVersion: string; platform: Platform };

export type IntegrationSpec = {
  /** PEP 508 requirement specifiers. */
  requirements: string[];
  aptPackages?: string[];
  /** Other integrations this one needs; their requirements join the closure. */
  integrations?: string[];
};

/** Integration name -> its requirements for the query's target. */
export type IntegrationCatalog = Map<string, IntegrationSpec>;

/** A stack component of the run configuration. */
export type StackComponent = { type: string; flavor: string; name?: string; uri?: string; default_repository?: string };

/** What a flavor brings to the images. */
export type FlavorInfo = {
  /** The integration implementing the flavor, whose requirements and apt packages the images get; null: built in. */
  integration: string | null;
  /** For orchestrators: whether it runs steps in these images (a local orchestrator runs them in-process). */
  containerized?: boolean;
  /** Requirements the component adds beyond its integration's. */
  requirements?: string[];
};

/** Component type -> flavor -> what it brings; `code_repository` holds the code repository types. */
export type FlavorCatalog = Map<string, Map<string, FlavorInfo>>;

export type ParentImageContext = { pythonVersion: string; platform: Platform };

/**
 * A command ZenML runs in a shell to export requirements, from `cwd` (ZenML: the working
 * directory), with the source root beside; `path` names the setting.
 */
export type LocalEnvironmentRequest =
  /** `replicate_local_python_environment`: the shell command (`method` when it is one of the named ones). */
  | { kind: "replicate"; command: string; method?: "pip_freeze" | "poetry_export"; cwd: string; root: string; path: string }
  /** `pyproject_path`: shell commands tried in order until one succeeds, `{directory}` already filled in. */
  | { kind: "pyproject"; commands: string[]; pyproject: string; cwd: string; root: string; path: string };

/** Requirements text, or diagnostics when the environment could not be read. */
export type LocalEnvironmentResult = { requirements: string } | { diagnostics: Diagnostic[] };

/** The code repository the run configuration registers, asked about the source root. */
export type CodeRepositoryQuery = { root: string; type: string; url?: string };

export type RepositoryState = {
  url: string;
  commit: string;
  /** The source root relative to the repository root (POSIX, "" at the top). */
  subdirectory: string;
  /** Uncommitted or untracked files. */
  dirty: boolean;
  /** Commits that are not pushed (or nothing shows that HEAD is on the remote). */
  unpushed: boolean;
  /** Why the checkout cannot be downloaded as it is, for messages. */
  problems: string[];
};

export type EmitOptions = { mode?: string };

/** One output file of a backend; `contents` is text or bytes. */
export type Artifact = { path: string; contents: string | Uint8Array };
export type Artifacts = { files: Artifact[]; diagnostics: Diagnostic[] };

export type CompilerHooks = Readonly<{
  /** Fires once per compile; returns the rules of the selected ZenML release (the preset taps it). */
  rules: SyncWaterfallHook<[BuildRules | undefined]>;
  /** Fires once per scope after validation and migration; returns the settings to use. */
  settings: SyncWaterfallHook<[GivenSettings, Scope]>;
  /** Fires when no `parent_image` or `dockerfile` is set; returns the default parent reference. */
  parentImage: SyncWaterfallHook<[string | undefined, ParentImageContext]>;
  /** Fires once per target; plugins add or replace integrations in the catalog. */
  integrations: SyncWaterfallHook<[IntegrationCatalog, IntegrationQuery]>;
  /** Fires once per compile; plugins add or replace stack component flavors. */
  flavors: SyncWaterfallHook<[FlavorCatalog, { release: string }]>;
  /** Replicates the local Python environment; the first tap that answers wins. */
  localEnvironment: AsyncSeriesBailHook<[LocalEnvironmentRequest], LocalEnvironmentResult | undefined>;
  /** Reports the state of the registered code repository around the source root; undefined when there is none. */
  codeRepository: AsyncSeriesBailHook<[CodeRepositoryQuery], RepositoryState | undefined>;
  /** Passes over each finished image plan; returns the plan to use. */
  plan: SyncWaterfallHook<[ImagePlan]>;
  /** Backends, keyed by name (`dockerfile`, `buildah`, `llb`). */
  emit: HookMap<SyncBailHook<[ImagePlan, EmitOptions], Artifacts | undefined>>;
}>;

export function createHooks(): CompilerHooks {
  return Object.freeze({
    rules: new SyncWaterfallHook<[BuildRules | undefined]>(["rules"]),
    settings: new SyncWaterfallHook<[GivenSettings, Scope]>(["settings", "scope"]),
    parentImage: new SyncWaterfallHook<[string | undefined, ParentImageContext]>(["ref", "context"]),
    integrations: new SyncWaterfallHook<[IntegrationCatalog, IntegrationQuery]>(["catalog", "query"]),
    flavors: new SyncWaterfallHook<[FlavorCatalog, { release: string }]>(["catalog", "query"]),
    localEnvironment: new AsyncSeriesBailHook<[LocalEnvironmentRequest], LocalEnvironmentResult | undefined>(["request"]),
    codeRepository: new AsyncSeriesBailHook<[CodeRepositoryQuery], RepositoryState | undefined>(["query"]),
    plan: new SyncWaterfallHook<[ImagePlan]>(["image"]),
    emit: new HookMap(() => new SyncBailHook<[ImagePlan, EmitOptions], Artifacts | undefined>(["image", "options"])),
  });
}
