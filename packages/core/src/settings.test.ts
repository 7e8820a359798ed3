import { describe, expect, it } from "vitest";
import { didYouMean, formatPath, mergeSettings, parseSettings, settingsJsonSchema, withDefaults } from "./settings.js";

const base = "settings.docker";

describe("parseSettings: the older field set migrates to the newer one", () => {
  it.each([
    ["include", { allow_including_files_in_images: true, allow_download_from_code_repository: false, allow_download_from_artifact_store: false }],
    ["download_or_include", { allow_including_files_in_images: true, allow_download_from_code_repository: true, allow_download_from_artifact_store: false }],
    ["download", { allow_including_files_in_images: false, allow_download_from_code_repository: true, allow_download_from_artifact_store: false }],
    ["ignore", { allow_including_files_in_images: false, allow_download_from_code_repository: false, allow_download_from_artifact_store: false }],
  ])("source_files: %s", (mode, flags) => {
    const { settings, diagnostics } = parseSettings({ source_files: mode }, base);
    expect(settings).toEqual(flags);
    expect(diagnostics).toEqual([expect.objectContaining({ code: "DEPRECATED_FIELD", severity: "warning", path: "settings.docker.source_files" })]);
  });

  it("the allow_* flags win over source_files, with a warning", () => {
    const { settings, diagnostics } = parseSettings({ source_files: "ignore", allow_including_files_in_images: false }, base);
    expect(settings).toEqual({ allow_including_files_in_images: false });
    expect(diagnostics.map((d) => d.code)).toEqual(["CONFLICTING_FIELDS"]);
  });

  it("copy_files: false means ignore; true means include", () => {
    expect(parseSettings({ copy_files: false }, base).settings.allow_including_files_in_images).toBe(false);
    expect(parseSettings({ copy_files: true }, base).settings).toEqual({
      allow_including_files_in_images: true, allow_download_from_code_repository: false, allow_download_from_artifact_store: false,
    });
  });

  it("build_options and dockerignore move under build_config, and parent_image_build_config when a dockerfile is given", () => {
    const plain = parseSettings({ build_options: { pull: true }, dockerignore: "ci/.dockerignore" }, base);
    expect(plain.settings).toEqual({ build_config: { build_options: { pull: true }, dockerignore: "ci/.dockerignore" } });
    expect(plain.diagnostics.map((d) => d.path)).toEqual(["settings.docker.build_options", "settings.docker.dockerignore"]);
    const withDockerfile = parseSettings({ dockerfile: "Dockerfile", dockerignore: ".di" }, base);
    expect(withDockerfile.settings.parent_image_build_config).toEqual({ dockerignore: ".di" });
  });

  it("replicate_local_python_environment: true means pip_freeze, with a warning", () => {
    const { settings, diagnostics } = parseSettings({ replicate_local_python_environment: true }, base);
    expect(settings.replicate_local_python_environment).toBe("pip_freeze");
    expect(diagnostics[0]?.message).toContain("write `replicate_local_python_environment: pip_freeze`");
  });

  it("removed and inert fields warn", () => {
    const { diagnostics } = parseSettings({ required_hub_plugins: ["x"], copy_global_config: true }, base);
    expect(diagnostics.map((d) => [d.code, d.path])).toEqual([
      ["DEPRECATED_FIELD", "settings.docker.copy_global_config"],
      ["SETTING_IGNORED", "settings.docker.required_hub_plugins"],
    ]);
  });

  it("environment values and installer args become strings; null stays a bare flag", () => {
    const { settings } = parseSettings({ environment: { n: 1, b: false }, python_package_installer_args: { "no-deps": null, timeout: 30 } }, base);
    expect(settings.environment).toEqual({ n: "1", b: "false" });
    expect(settings.python_package_installer_args).toEqual({ "no-deps": null, timeout: "30" });
  });
});

describe("parseSettings: errors name the path, the value and the fix", () => {
  it("an unknown key gets a did-you-mean hint", () => {
    const { diagnostics } = parseSettings({ apt_package: ["git"] }, "steps.trainer.settings.docker");
    expect(diagnostics).toEqual([{
      code: "UNKNOWN_KEY",
      severity: "error",
      path: "steps.trainer.settings.docker.apt_package",
      message: 'unknown setting "apt_package". Did you mean `apt_packages`?',
    }]);
  });

  it("an unknown key inside build_config is checked against build_config's keys", () => {
    const { diagnostics } = parseSettings({ build_config: { dockerigore: "x" } }, base);
    expect(diagnostics[0]?.path).toBe("settings.docker.build_config.dockerigore");
    expect(diagnostics[0]?.message).toContain("Did you mean `dockerignore`?");
  });

  it("a wrong type names the element", () => {
    const { diagnostics } = parseSettings({ apt_packages: ["git", "curl", 3] }, "steps.trainer.settings.docker");
    expect(diagnostics).toEqual([{
      code: "INVALID_TYPE",
      severity: "error",
      path: "steps.trainer.settings.docker.apt_packages[2]",
      message: "got 3; expected a list of Debian package names.",
    }]);
  });

  it("a wrong enum value says what is allowed", () => {
    const { diagnostics } = parseSettings({ python_package_installer: "conda" }, base);
    expect(diagnostics[0]?.message).toBe('got "conda"; expected `pip` or `uv`.');
  });
});

describe("mergeSettings", () => {
  it("maps merge recursively, lists and scalars replace", () => {
    const merged = mergeSettings(
      { environment: { A: "1", B: "2" }, apt_packages: ["git"], build_config: { build_options: { pull: true } }, user: "a" },
      { environment: { B: "3" }, apt_packages: ["curl"], build_config: { dockerignore: "x" } },
    );
    expect(merged).toEqual({
      environment: { A: "1", B: "3" },
      apt_packages: ["curl"],
      build_config: { build_options: { pull: true }, dockerignore: "x" },
      user: "a",
    });
  });
});

describe("defaults", () => {
  it("installer args merge over the installer's defaults", () => {
    expect(withDefaults({}).python_package_installer_args).toEqual({ "no-cache-dir": null, "default-timeout": "60" });
    expect(withDefaults({ python_package_installer: "uv", python_package_installer_args: { "no-deps": null } }).python_package_installer_args)
      .toEqual({ "no-cache-dir": null, "no-deps": null });
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
  it("the JSON Schema covers every field", () => {
    const schema = settingsJsonSchema() as { properties: Record<string, { description?: string }>; additionalProperties: unknown };
    expect(Object.keys(schema.properties)).toContain("parent_image_build_config");
    expect(schema.properties["apt_packages"]?.description).toBe("Expects a list of Debian package names.");
    expect(schema.additionalProperties).toBe(false);
  });
});
