import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Compiler, formatDiagnostic, type LocalEnvironmentRequest, type LocalEnvironmentResult } from "@dockwright/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { memoryHost } from "../../../test/support/memory-host.ts";
import { lacks, toolPath } from "../../../test/support/tools.ts";
import { zenml } from "@dockwright/plugin-zenml";
import { localEnv, type LocalEnvOptions } from "./index.js";

let root: string;
let bin: string;
let empty: string;
const originalPath = process.env.PATH;

/** Stand-ins for pip, poetry and uv: each prints where it ran and with which arguments. */
const scripts: Record<string, string> = {
  "fake-python": `if [ "$*" = "-E -m pip freeze" ]; then printf 'numpy==1.26.4\\npandas==2.2.0\\n'; exit 0; fi
echo "fake-python: unexpected arguments: $*" >&2; exit 64`,
  poetry: `echo "# poetry in $(pwd): $*"; echo 'requests==2.31.0 ; python_version >= "3.8"'`,
  uv: `if [ -n "$FAKE_UV_FAIL" ]; then echo "warning: resolving" >&2; echo "error: No \\\`project\\\` table found in: \\\`pyproject.toml\\\`" >&2; exit 2; fi
echo "# uv in $(pwd): $*"; echo "httpx==0.27.0"`,
  failing: `for i in 1 2 3 4 5 6 7; do echo "line $i" >&2; done; exit 3`,
  slow: `sleep 30; echo never`,
  "custom-export": `echo "# custom in $(pwd): $*"; echo "torch==2.1.0"`,
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "dockwright-local-env-"));
  bin = join(root, ".bin");
  empty = join(root, ".empty");
  await mkdir(bin);
  await mkdir(empty);
  await mkdir(join(root, "apps"));
  await writeFile(join(root, "pyproject.toml"), "[project]\nname = 'demo'\n");
  await writeFile(join(root, "apps", "pyproject.toml"), "[project]\nname = 'app'\n");
  for (const [name, body] of Object.entries(scripts)) {
    await writeFile(join(bin, name), `#!/bin/sh\n${body}\n`);
    await chmod(join(bin, name), 0o755);
  }
  process.env.PATH = `${bin}:${originalPath}`;
});

afterAll(async () => {
  process.env.PATH = originalPath;
  await rm(root, { recursive: true, force: true });
});

/** A request without the parts every test shares. */
type Bare<T> = T extends unknown ? Omit<T, "root" | "path" | "cwd"> : never;

function replicate(request: Bare<LocalEnvironmentRequest>, options: LocalEnvOptions = {}): Promise<LocalEnvironmentResult | undefined> {
  const compiler = new Compiler([localEnv({ python: join(bin, "fake-python"), ...options })]);
  const path = request.kind === "replicate" ? "settings.docker.replicate_local_python_environment" : "settings.docker.pyproject_path";
  return compiler.hooks.localEnvironment.promise({ ...request, root, cwd: root, path } as LocalEnvironmentRequest);
}

function messages(result: LocalEnvironmentResult | undefined): string[] {
  return result && "diagnostics" in result ? result.diagnostics.map(formatDiagnostic) : [];
}

describe("replicate_local_python_environment", () => {
  test("pip_freeze asks the interpreter the user names for `-E -m pip freeze`", async () => {
    expect(await replicate({ kind: "replicate", command: "pip freeze", method: "pip_freeze" })).toEqual({ requirements: "numpy==1.26.4\npandas==2.2.0\n" });
  });

  test("other commands run in a shell, as ZenML runs them, from the settings' folder", async () => {
    expect(await replicate({ kind: "replicate", command: "poetry export --format=requirements.txt", method: "poetry_export" })).toEqual({
      requirements: `# poetry in ${root}: export --format=requirements.txt\nrequests==2.31.0 ; python_version >= "3.8"\n`,
    });
    expect(await replicate({ kind: "replicate", command: "custom-export --extras=train a b" })).toEqual({
      requirements: `# custom in ${root}: --extras=train a b\ntorch==2.1.0\n`,
    });
  });

  test("a failing command is named with its exit code and the last lines of its error output", async () => {
    expect(messages(await replicate({ kind: "replicate", command: "failing --flag" }))).toEqual([
      "error LOCAL_ENVIRONMENT_FAILED at settings.docker.replicate_local_python_environment: `failing --flag` exited with code 3, its error output ending in: line 3 | line 4 | line 5 | line 6 | line 7. Fix the command, or remove `replicate_local_python_environment`.",
    ]);
  });

  test("a wrong interpreter is reported by pip's stand-in", async () => {
    expect(messages(await replicate({ kind: "replicate", command: "pip freeze", method: "pip_freeze" }, { python: join(bin, "failing") }))[0]).toContain(`\`${join(bin, "failing")} -E -m pip freeze\` exited with code 3`);
  });

  test("a missing interpreter is named as missing", async () => {
    expect(messages(await replicate({ kind: "replicate", command: "pip freeze", method: "pip_freeze" }, { python: "python-that-is-not-there" }))).toEqual([
      'error LOCAL_ENVIRONMENT_FAILED at settings.docker.replicate_local_python_environment: "python-that-is-not-there" was not found (is it installed and on PATH?). Fix the command, or remove `replicate_local_python_environment`.',
    ]);
  });

  test("a command that hangs is ended after the timeout, with everything it started", async () => {
    const started = Date.now();
    expect(messages(await replicate({ kind: "replicate", command: "slow" }, { timeout: 300 }))).toEqual([
      "error LOCAL_ENVIRONMENT_FAILED at settings.docker.replicate_local_python_environment: `slow` did not finish within 0.3 s. Fix the command, or remove `replicate_local_python_environment`.",
    ]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  // Issue 13, defect 9: `[yes, numpy==1.0]` once printed gigabytes until the timeout.
  test("a command that prints without end is ended at the output cap", async () => {
    expect(messages(await replicate({ kind: "replicate", command: "yes numpy==1.0" }, { timeout: 20_000, maxOutput: 1 << 20 }))).toEqual([
      "error LOCAL_ENVIRONMENT_FAILED at settings.docker.replicate_local_python_environment: `yes numpy==1.0` printed more than the 1048576 bytes of requirements Dockwright reads, so it was ended. Fix the command, or remove `replicate_local_python_environment`.",
    ]);
  });
});

// Issue 13, defect 2: `python3 -m pip` in the source root imported a `pip` package planted there.
describe.skipIf(lacks("python3"))("pip freeze runs no code of the folder it is run for", () => {
  test("a pip package planted in the working folder, or where PYTHONPATH points, is not imported", async () => {
    const planted = await mkdtemp(join(tmpdir(), "dockwright-planted-"));
    const marker = join(planted, "ran");
    try {
      await mkdir(join(planted, "pip"));
      const payload = `open(${JSON.stringify(marker)}, "w").write("planted pip ran")\nprint("planted==6.6.6")\n`;
      await writeFile(join(planted, "pip", "__init__.py"), payload);
      await writeFile(join(planted, "pip", "__main__.py"), payload);
      process.env.PYTHONPATH = planted;
      const compiler = new Compiler([localEnv({ python: toolPath("python3")! })]);
      const result = await compiler.hooks.localEnvironment.promise({
        kind: "replicate", command: "pip freeze", method: "pip_freeze", root: planted, cwd: planted, path: "settings.docker.replicate_local_python_environment",
      });
      expect(JSON.stringify(result)).not.toContain("planted==6.6.6");
      expect(existsSync(marker)).toBe(false);
    } finally {
      delete process.env.PYTHONPATH;
      await rm(planted, { recursive: true, force: true });
    }
  });
});

describe("pyproject_path", () => {
  const uvExport = `uv export --format=requirements-txt --directory=${root} --no-hashes --no-emit-project`;
  test("the commands are tried in order until one succeeds", async () => {
    expect(await replicate({ kind: "pyproject", pyproject: join(root, "pyproject.toml"), commands: [`custom-export --directory=${join(root, "apps")}`] })).toEqual({
      requirements: `# custom in ${root}: --directory=${join(root, "apps")}\ntorch==2.1.0\n`,
    });
    process.env.FAKE_UV_FAIL = "1";
    try {
      expect(await replicate({ kind: "pyproject", pyproject: join(root, "pyproject.toml"), commands: ["uv export --format=requirements-txt", "poetry export --format=requirements.txt"] })).toEqual({
        requirements: `# poetry in ${root}: export --format=requirements.txt\nrequests==2.31.0 ; python_version >= "3.8"\n`,
      });
    } finally {
      delete process.env.FAKE_UV_FAIL;
    }
  });

  test("when none works, every failure is named", async () => {
    process.env.PATH = empty;
    try {
      expect(messages(await replicate({ kind: "pyproject", pyproject: "pyproject.toml", commands: [uvExport, "poetry export"] }))[0]).toMatch(
        /^error LOCAL_ENVIRONMENT_FAILED at settings\.docker\.pyproject_path: the requirements of "pyproject\.toml" could not be exported: `uv export .*` exited with code 127.*; `poetry export` exited with code 127/,
      );
    } finally {
      process.env.PATH = `${bin}:${originalPath}`;
    }
  });
});

test("a compile writes the command's output as the local requirements file", async () => {
  const compiler = new Compiler([zenml(), localEnv({ python: join(bin, "fake-python") })]);
  const result = await compiler.compile({
    pipelineName: "training",
    host: memoryHost({ "run.py": "print(1)\n" }, root),
    config: { settings: { docker: { parent_image: "python:3.11-slim", replicate_local_python_environment: "pip_freeze" } } },
  });
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  expect(result.plan?.images[0]?.context.generated).toContainEqual({ path: ".zenml_local_requirements", contents: "numpy==1.26.4\npandas==2.2.0\n" });
});

test("the real `python3 -m pip freeze` of this machine", async () => {
  const compiler = new Compiler([localEnv()]);
  const result = await compiler.hooks.localEnvironment.promise({ kind: "replicate", command: "pip freeze", method: "pip_freeze", root, cwd: root, path: "settings.docker.replicate_local_python_environment" });
  expect(messages(result)).toEqual([]);
  const lines = result && "requirements" in result ? result.requirements.split("\n").filter((l) => l !== "") : [];
  expect(lines.length).toBeGreaterThan(0);
  // pip freeze prints pins, direct references and editable installs.
  for (const line of lines) expect(line).toMatch(/^([A-Za-z0-9][\w.-]*(==| @ )|-e |#)/);
});
