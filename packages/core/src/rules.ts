/**
 * The rules of the selected ZenML release: every knob where releases differ, as plain data. The
 * ZenML preset reads them off its table of release ranges; the planning stages read them here.
 * Core knows no release numbers beyond the ones these rules and the settings fields carry.
 */
import type { RequirementsOrigin } from "./ir.js";

export type BuildRules = {
  /** The release, e.g. `0.93.0`: the settings fields that exist are chosen by it. */
  release: string;
  /** pydantic's generation, whose coercions the settings follow: 1 (lax) or 2. */
  pydantic: 1 | 2;
  /** Settings the release does not know: rejected, or ignored with a warning. */
  unknownKeys: "error" | "ignore";
  /** `${VAR}` placeholders in settings are replaced from the client environment first (a missing one is an error). */
  substituteEnvironmentPlaceholders: boolean;
  /** Step settings that are `null` leave the pipeline's value in place (as the release's merge drops `None`). */
  mergeDropsNull: boolean;
  /**
   * How the release writes `ENV KEY=value`: the value as it is (`raw`, so Docker expands `$VAR`
   * and splits words) or in single quotes (`single-quoted`, literal unless it holds a quote).
   */
  environmentQuoting: "raw" | "single-quoted";
  /** Lines the release writes around the user's environment. */
  fixedEnvironment: {
    /** First, before the user's variables: the client's `ZENML_LOGGING_COLORS_DISABLED` as a Python bool. */
    loggingColors: boolean;
    /** `ZENML_REQUIRES_CODE_DOWNLOAD=True` when the image downloads its code. */
    codeDownload: boolean;
  };
  /** Requirements files in install order; `stack` missing means stack requirements join `integrations`. */
  installOrder: readonly RequirementsOrigin[];
  /** Installer flags the release always passes, before the user's (`null`: a bare flag). */
  installerDefaults: Readonly<Record<"pip" | "uv", readonly (readonly [name: string, value: string | null])[]>>;
  /** The apt packages of `required_integrations` are installed (not only their Python packages). */
  requiredIntegrationApt: boolean;
  /** Image tags are sanitized as `docker_utils.sanitize_tag` does. */
  sanitizeTags: boolean;
  /**
   * Decides where code comes from: `source-files` (a code repository is required as soon as any
   * step says `download`) or `allow-flags` (the first step that decides, as 0.64 and later do).
   */
  codeDecision: "source-files" | "allow-flags";
  /**
   * What makes an image need ZenML's own build on top of its parent: settings that are set (true,
   * non-empty), and `include_files` / `download_files` when the image includes or downloads code.
   */
  buildTriggers: readonly string[];
  /** The deprecated `build_options` still configure the build of `dockerfile`, or have no effect. */
  deprecatedBuildOptions: "parent-build" | "ignored";
  /** The shell commands that export requirements: the named methods and pyproject's defaults (`{directory}`). */
  exportCommands: { pip_freeze: string; poetry_export: string; pyproject: readonly string[] };
};
