import { describe, expect, it } from "vitest";
import { rulesFor } from "@dockwright/plugin-zenml";
import { didYouMean, formatPath, mergeSettings, parseSettings, revalidate, settingsJsonSchema, withDefaults } from "./settings.js";

const base = "settings.docker";
const newest = rulesFor("0.93.0").rules;
const old = rulesFor("0.58.2").rules;
const parse = (raw: unknown, rules = newest) => parseSettings(raw, base, rules);

describe("parseSettings: each release's fields", () => {
  it("a field of a later release is unknown to an earlier one: rejected before 0.82, ignored with a warning after", () => {
    expect(parseSettings({ image_tag: "v1" }, base, rulesFor("0.81.0").rules).diagnostics).toEqual([expect.objectContaining({
      code: "UNKNOWN_KEY", severity: "error", path: "settings.docker.image_tag",
      message: expect.stringContaining("a setting of ZenML >=0.91.0, not of 0.81.0"),
    })]);
    const ignored = parseSettings({ image_tag: "v1", parent_imag: "x" }, base, rulesFor("0.85.0").rules);
    expect(ignored.settings).toEqual({});
    expect(ignored.diagnostics.map((d) => [d.severity, d.path])).toEqual([["warning", "settings.docker.image_tag"], ["warning", "settings.docker.parent_imag"]]);
    expect(parse({ image_tag: "v1" }).settings).toEqual({ image_tag: "v1" });
  });

  it("an unknown key gets a did-you-mean hint", () => {
    const { diagnostics } = parseSettings({ apt_package: ["git"] }, "steps.trainer.settings.docker", rulesFor("0.70.0").rules);
    expect(diagnostics).toEqual([{
      code: "UNKNOWN_KEY", severity: "error", path: "steps.trainer.settings.docker.apt_package",
      message: 'unknown setting "apt_package". Did you mean `apt_packages`?',
    }]);
  });

  it("an unknown key inside build_config is ignored, as ZenML's model ignores it, with a warning", () => {
    const { settings, diagnostics } = parse({ build_config: { dockerigore: "x" } });
    expect(settings).toEqual({ build_config: {} });
    expect(diagnostics).toEqual([expect.objectContaining({ severity: "warning", path: "settings.docker.build_config.dockerigore", message: expect.stringContaining("Did you mean `dockerignore`?") })]);
  });

  it("a wrong type names the element", () => {
    const { diagnostics } = parseSettings({ apt_packages: ["git", "curl", 3] }, "steps.trainer.settings.docker", newest);
    expect(diagnostics).toEqual([{ code: "INVALID_TYPE", severity: "error", path: "steps.trainer.settings.docker.apt_packages[2]", message: "got 3; expected a list of Debian package names." }]);
  });

  it("a wrong enum value says what is allowed", () => {
    expect(parse({ python_package_installer: "conda" }).diagnostics[0]?.message).toBe('got "conda"; expected `pip` or `uv`.');
  });

  it("pydantic 1 (0.58) turns numbers into strings; pydantic 2 refuses them", () => {
    expect(parse({ parent_image: 3 }, old).settings).toEqual({ parent_image: "3" });
    expect(parse({ parent_image: 3 }).diagnostics.map((d) => d.code)).toEqual(["INVALID_TYPE"]);
  });

  it("booleans take pydantic's words", () => {
    expect(parse({ skip_build: "yes", parent_image: "x" }).settings.skip_build).toBe(true);
    expect(parse({ install_stack_requirements: "off" }).settings.install_stack_requirements).toBe(false);
    expect(parse({ skip_build: "maybe" }).diagnostics.map((d) => d.code)).toEqual(["INVALID_TYPE"]);
  });

  it("replicate_local_python_environment: true exists from 0.82.1, where a command is deprecated", () => {
    expect(parseSettings({ replicate_local_python_environment: true }, base, rulesFor("0.82.0").rules).diagnostics.map((d) => d.code)).toEqual(["INVALID_TYPE"]);
    expect(parse({ replicate_local_python_environment: true })).toEqual({ settings: { replicate_local_python_environment: true }, diagnostics: [] });
    expect(parse({ replicate_local_python_environment: ["pip", "freeze"] }).diagnostics).toEqual([expect.objectContaining({ code: "DEPRECATED_FIELD" })]);
  });
});

describe("parseSettings: the release's migrations", () => {
  it.each([
    ["include", [true, false, false]],
    ["download_or_include", [true, true, false]],
    ["download", [false, true, false]],
    ["ignore", [false, false, false]],
  ] as const)("source_files: %s becomes the allow_* flags (0.64 and later)", (mode, [include, repository, store]) => {
    const { settings, diagnostics } = parse({ source_files: mode });
    expect(settings).toEqual({ source_files: mode, allow_including_files_in_images: include, allow_download_from_code_repository: repository, allow_download_from_artifact_store: store });
    expect(diagnostics).toEqual([expect.objectContaining({ code: "DEPRECATED_FIELD", path: "settings.docker.source_files" })]);
  });

  it("before 0.64 source_files is the field, its default download_or_include, and the artifact store is no option", () => {
    expect(withDefaults({}, old)).toMatchObject({ allow_including_files_in_images: true, allow_download_from_code_repository: true, allow_download_from_artifact_store: false });
    expect(withDefaults({}, newest)).toMatchObject({ allow_including_files_in_images: true, allow_download_from_code_repository: true, allow_download_from_artifact_store: true });
  });

  it("the allow_* flags win over source_files, with a warning", () => {
    const { settings, diagnostics } = parse({ source_files: "ignore", allow_including_files_in_images: false });
    expect(settings).toEqual({ source_files: "ignore", allow_including_files_in_images: false });
    expect(diagnostics.map((d) => d.code)).toEqual(["DEPRECATED_FIELD", "CONFLICTING_FIELDS"]);
  });

  it("copy_files migrates to source_files before 0.64 and has no effect after", () => {
    expect(parse({ copy_files: false }, old).settings.source_files).toBe("ignore");
    expect(parse({ copy_files: false }).settings).toEqual({ copy_files: false });
  });

  it("checks across fields: skip_build needs a parent, a local install needs the files", () => {
    expect(parse({ skip_build: true }).diagnostics.map((d) => d.code)).toEqual(["SKIP_BUILD_WITHOUT_PARENT"]);
    expect(parse({ local_project_install_command: "pip install .", allow_including_files_in_images: false }).diagnostics.map((d) => d.code)).toEqual(["INSTALL_COMMAND_WITHOUT_FILES"]);
  });
});

describe("mergeSettings", () => {
  it("maps merge recursively, lists and scalars replace", () => {
    const merged = mergeSettings(
      { environment: { A: "1", B: "2" }, apt_packages: ["git"], build_config: { build_options: { pull: true } }, user: "a" },
      { environment: { B: "3" }, apt_packages: ["curl"], build_config: { dockerignore: "x" } },
      newest,
    );
    expect(merged).toEqual({ environment: { A: "1", B: "3" }, apt_packages: ["curl"], build_config: { build_options: { pull: true }, dockerignore: "x" }, user: "a" });
  });

  it("a step's null replaces the pipeline's value before 0.84 and leaves it from 0.84", () => {
    expect(mergeSettings({ user: "a" }, { user: null }, rulesFor("0.83.1").rules)).toEqual({ user: null });
    expect(mergeSettings({ user: "a" }, { user: null }, newest)).toEqual({ user: "a" });
  });

  it("merged settings are checked again", () => {
    expect(revalidate({ skip_build: true }, "steps.a.settings.docker", newest).diagnostics.map((d) => d.path)).toEqual(["steps.a.settings.docker.skip_build"]);
  });
});

describe("defaults", () => {
  it("follow the release", () => {
    expect(withDefaults({}, rulesFor("0.84.3").rules).python_package_installer).toBe("pip");
    expect(withDefaults({}, rulesFor("0.85.0").rules).python_package_installer).toBe("uv");
    expect(withDefaults({}, old).target_repository).toBe("zenml");
    expect(withDefaults({}, newest).target_repository).toBeUndefined();
  });
});

describe("helpers", () => {
  it("formats paths", () => {
    expect(formatPath("steps", ["my step", "settings", 2])).toBe('steps["my step"].settings[2]');
  });
  it("suggests only close names", () => {
    expect(didYouMean("enviroment", ["environment", "user"])).toBe("environment");
    expect(didYouMean("zzzz", ["environment", "user"])).toBeUndefined();
  });
  it("the JSON Schema covers every field of every release, saying where it exists", () => {
    const schema = settingsJsonSchema() as { properties: Record<string, { description?: string }>; additionalProperties: unknown };
    expect(Object.keys(schema.properties)).toContain("parent_image_build_config");
    expect(schema.properties["apt_packages"]?.description).toBe("Expects a list of Debian package names.");
    expect(schema.properties["image_tag"]?.description).toContain("(ZenML >=0.91.0)");
    expect(schema.additionalProperties).toBe(false);
  });
});
