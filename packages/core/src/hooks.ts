/**
 * Every extension point of the Compiler, declared once. Plugins tap these by name, as in webpack.
 */
import { AsyncSeriesBailHook, HookMap, SyncBailHook, SyncWaterfallHook } from "tapable";
import type { Diagnostic } from "./diagnostics.js";
import type { ImagePlan, Platform } from "./ir.js";
import type { GivenSettings, LocalEnvironmentMethod } from "./settings.js";

/** Which settings a hook call is about. */
export type Scope = { kind: "pipeline" } | { kind: "step"; step: string };

/** What decides the variant of an integration: the image's target, never the host. */
export type IntegrationQuery = { pythonVersion: string; platform: Platform };

export type IntegrationSpec = {
  /** PEP 508 requirement specifiers. */
  requirements: string[];
  aptPackages?: string[];
  /** Other integrations this one needs; their requirements join the closure. */
  integrations?: string[];
};

export type StackComponent = { type: string; flavor: string; name?: string };

export type ParentImageContext = { pythonVersion: string; platform: Platform };

export type LocalEnvironmentRequest =
  /** `replicate_local_python_environment`. */
  | { kind: "replicate"; method: LocalEnvironmentMethod; root: string; path: string }
  /** `pyproject_path` (given, or found by automatic detection). */
  | { kind: "pyproject"; pyproject: string; command?: string[]; root: string; path: string };

/** Requirements text, or diagnostics when the environment could not be read. */
export type LocalEnvironmentResult = { requirements: string } | { diagnostics: Diagnostic[] };

export type RepositoryState = {
  url: string;
  commit: string;
  /** The source root relative to the repository root (POSIX, "" at the top). */
  subdirectory: string;
  /** Why the working tree cannot be downloaded as is (uncommitted changes, unpushed commits, ...). */
  problems: string[];
};

export type EmitOptions = { mode?: string };

/** One output file of a backend; `contents` is text or bytes. */
export type Artifact = { path: string; contents: string | Uint8Array };
export type Artifacts = { files: Artifact[]; diagnostics: Diagnostic[] };

export type CompilerHooks = Readonly<{
  /** Fires once per scope after parsing and migration; returns the settings to use. */
  settings: SyncWaterfallHook<[GivenSettings, Scope]>;
  /** Fires when no `parent_image` or `dockerfile` is set; returns the default parent reference. */
  parentImage: SyncWaterfallHook<[string | undefined, ParentImageContext]>;
  /** Keyed by integration name; the first tap that returns a spec wins. */
  integration: HookMap<SyncBailHook<[IntegrationQuery], IntegrationSpec | undefined>>;
  /**
   * Maps a stack component to the integration that provides its flavor: a name, null for a
   * known flavor that needs none, undefined when no plugin knows the flavor.
   */
  stackComponent: SyncBailHook<[StackComponent], string | null | undefined>;
  /** Replicates the local Python environment; the first tap that answers wins. */
  localEnvironment: AsyncSeriesBailHook<[LocalEnvironmentRequest], LocalEnvironmentResult | undefined>;
  /** Reports the code repository holding the source root, or undefined when there is none. */
  codeRepository: AsyncSeriesBailHook<[string], RepositoryState | undefined>;
  /** Passes over each finished image plan; returns the plan to use. */
  plan: SyncWaterfallHook<[ImagePlan]>;
  /** Backends, keyed by name (`dockerfile`, `buildah`, `llb`). */
  emit: HookMap<SyncBailHook<[ImagePlan, EmitOptions], Artifacts | undefined>>;
}>;

export function createHooks(): CompilerHooks {
  return Object.freeze({
    settings: new SyncWaterfallHook<[GivenSettings, Scope]>(["settings", "scope"]),
    parentImage: new SyncWaterfallHook<[string | undefined, ParentImageContext]>(["ref", "context"]),
    integration: new HookMap(() => new SyncBailHook<[IntegrationQuery], IntegrationSpec | undefined>(["query"])),
    stackComponent: new SyncBailHook<[StackComponent], string | null | undefined>(["component"]),
    localEnvironment: new AsyncSeriesBailHook<[LocalEnvironmentRequest], LocalEnvironmentResult | undefined>(["request"]),
    codeRepository: new AsyncSeriesBailHook<[string], RepositoryState | undefined>(["root"]),
    plan: new SyncWaterfallHook<[ImagePlan]>(["image"]),
    emit: new HookMap(() => new SyncBailHook<[ImagePlan, EmitOptions], Artifacts | undefined>(["image", "options"])),
  });
}
