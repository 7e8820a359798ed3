/**
 * Where an image's code comes from at run time, decided as the release's `BuildConfiguration` and
 * build utilities decide it: included in the image, downloaded from the registered code
 * repository, downloaded from the artifact store, or none of them.
 */
import { codes, error, type Diagnostic } from "../diagnostics.js";
import type { Settings } from "../fields.js";
import type { SourceDecision } from "../ir.js";
import type { BuildRules } from "../rules.js";
import type { CodeContext } from "./input.js";

/** The decision for one image's settings (`should_include_files` / `should_download_files`). */
export function decideSources(settings: Settings, code: CodeContext, rules: BuildRules): SourceDecision {
  const repository = code.usable;
  if (rules.codeDecision === "source-files") {
    if (repository && settings.allow_download_from_code_repository) return { mode: "code-repository" };
    return settings.allow_including_files_in_images ? { mode: "include" } : { mode: "ignore" };
  }
  if (settings.local_project_install_command) return { mode: "include" };
  if (repository && settings.allow_download_from_code_repository) return { mode: "code-repository" };
  if (settings.allow_download_from_artifact_store) return { mode: "artifact-store" };
  return settings.allow_including_files_in_images ? { mode: "include" } : { mode: "ignore" };
}

/**
 * `verify_local_repository_context`: when the steps' settings require a download from a code
 * repository, one must be registered, committed and pushed. `scopes` are the settings of the
 * pipeline's steps, in order.
 */
export function verifyRepository(scopes: readonly { settings: Settings; base: string }[], code: CodeContext, rules: BuildRules): Diagnostic[] {
  const requiring = scopes.find(({ settings: s }, index) => {
    if (rules.codeDecision === "source-files") return !s.allow_including_files_in_images && s.allow_download_from_code_repository;
    // From 0.64 the first step that allows anything but a code repository decides that none is needed.
    const earlier = scopes.slice(0, index).some(({ settings: e }) => e.allow_download_from_artifact_store || e.allow_including_files_in_images);
    return !earlier && !s.allow_download_from_artifact_store && !s.allow_including_files_in_images && s.allow_download_from_code_repository;
  });
  if (!requiring) return [];
  const at = `${requiring.base}.allow_download_from_code_repository`;
  const fix = "Register the repository (`code_repository: {type: github}` in the run configuration), commit and push, or allow including the files in the image.";
  const repository = code.repository;
  const problem = !repository
    ? "no registered code repository holds the source root"
    : repository.dirty || repository.unpushed
      ? `the code repository cannot be downloaded as it is: ${repository.problems.join("; ")}`
      : undefined;
  return problem ? [error(codes.CODE_DOWNLOAD_UNAVAILABLE, at, `the settings say the code is downloaded from a code repository, but ${problem}. ${fix}`)] : [];
}
