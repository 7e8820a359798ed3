/**
 * How ZenML releases differ, as one table of release ranges: for every knob of core's rules, the
 * value each range of releases has, the first range that holds a release wins. Read off ZenML's
 * own code of each release (the oracle's trees) and checked against its output (test/zenml-oracle).
 */
import type { BuildRules } from "@dockwright/core";
import semver from "semver";

/** Knobs the preset reads itself, beside core's rules. */
export type PresetKnobs = {
  /** Connected to a database directly, local containerized orchestrators' images get `zenml[local]==<release>`. */
  sqlStoreExtra: boolean;
};

type Knobs = Omit<BuildRules, "release"> & PresetKnobs;
type Table = { readonly [K in keyof Knobs]: readonly (readonly [range: string, value: Knobs[K]])[] };

const pipArgs = [["no-cache-dir", null], ["default-timeout", "60"]] as const;

const table: Table = {
  pydantic: [["<0.60.0", 1], ["*", 2]],
  unknownKeys: [["<0.82.0", "error"], ["*", "ignore"]],
  substituteEnvironmentPlaceholders: [["<0.67.0", false], ["*", true]],
  mergeDropsNull: [["<0.84.0", false], ["*", true]],
  environmentQuoting: [["<0.74.0", "raw"], ["*", "single-quoted"]],
  fixedEnvironment: [
    ["<0.65.0", { loggingColors: true, codeDownload: true }],
    ["<0.90.0", { loggingColors: true, codeDownload: false }],
    ["*", { loggingColors: false, codeDownload: false }],
  ],
  installOrder: [
    ["<0.61.0", ["local", "user", "integrations"]],
    ["*", ["local", "stack", "integrations", "pyproject", "user"]],
  ],
  installerDefaults: [
    ["<0.58.2", { pip: pipArgs, uv: [["no-cache-dir", null], ["system", null]] }],
    ["*", { pip: pipArgs, uv: [["no-cache-dir", null]] }],
  ],
  requiredIntegrationApt: [["<0.62.0", false], ["*", true]],
  sanitizeTags: [["<0.84.0", false], ["*", true]],
  codeDecision: [["<0.64.0", "source-files"], ["*", "allow-flags"]],
  buildTriggers: [
    ["<0.74.0", ["requirements", "required_integrations", "replicate_local_python_environment", "required_hub_plugins", "install_stack_requirements", "apt_packages", "environment", "include_files", "download_files"]],
    ["<0.82.1", ["requirements", "required_integrations", "replicate_local_python_environment", "required_hub_plugins", "install_stack_requirements", "apt_packages", "environment", "include_files"]],
    ["*", ["requirements", "pyproject_path", "required_integrations", "replicate_local_python_environment", "install_stack_requirements", "local_project_install_command", "apt_packages", "environment", "include_files"]],
  ],
  deprecatedBuildOptions: [["<0.92.0", "parent-build"], ["*", "ignored"]],
  sqlStoreExtra: [["<0.90.0", false], ["*", true]],
  exportCommands: [[
    "*",
    {
      pip_freeze: "pip freeze",
      poetry_export: "poetry export --format=requirements.txt",
      pyproject: [
        "uv export --format=requirements-txt --directory={directory} --no-hashes --no-emit-project",
        "poetry export --format=requirements.txt --directory={directory} --without-hashes",
      ],
    },
  ]],
};

/** Core's rules and the preset's knobs for a release (a full version such as `0.93.0`). */
export function rulesFor(release: string): { rules: BuildRules; preset: PresetKnobs } {
  const knobs = Object.fromEntries(Object.entries(table).map(([knob, ranges]) => {
    const found = (ranges as readonly (readonly [string, unknown])[]).find(([range]) => semver.satisfies(release, range));
    if (!found) throw new Error(`the release table has no value of ${knob} for ${release}`);
    return [knob, found[1]];
  })) as Knobs;
  const { sqlStoreExtra, ...rules } = knobs;
  return { rules: { release, ...rules }, preset: { sqlStoreExtra } };
}
