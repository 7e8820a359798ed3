/**
 * What every planning stage of one image reads: the merged settings, the release's rules, the
 * resolved stack and code context, and the host. Stages run once per image, in data-flow order
 * (parent, environment, install, sources, image); each returns its part and adds diagnostics.
 */
import type { Diagnostic } from "../diagnostics.js";
import type { GivenSettings, Settings } from "../fields.js";
import type { CompilerHooks, FlavorCatalog, IntegrationCatalog, RepositoryState } from "../hooks.js";
import type { CompileHost } from "../host.js";
import type { Platform } from "../ir.js";
import type { BuildRules } from "../rules.js";
import type { ResolvedStack } from "./stack.js";

export type CodeContext = {
  /** The registered code repository, when the run configuration names one and the host found it. */
  repository?: RepositoryState & { type: string };
  /** Images may download from it: it exists, has no local changes and no unpushed commits. */
  usable: boolean;
};

export type ImageInput = {
  hooks: CompilerHooks;
  host: CompileHost;
  rules: BuildRules;
  settings: Settings;
  /** The merged settings as given (without defaults): part of the checksum. */
  given: GivenSettings;
  /** Settings path of the scope whose settings these are. */
  base: string;
  key: string;
  step?: string;
  pipeline: string;
  pythonVersion: string;
  platform: Platform;
  stack: ResolvedStack;
  code: CodeContext;
  /** The client environment ZenML would see (`ZENML_LOGGING_COLORS_DISABLED`). */
  clientEnvironment: Readonly<Record<string, string | undefined>>;
  integrations: IntegrationCatalog;
  flavors: FlavorCatalog;
  entrypoint?: string[];
  out: Diagnostic[];
};
