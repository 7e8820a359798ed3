/**
 * Reproducers of issue 13 (hostile input, second round), one `describe` per defect, through the
 * command line run in-process (`main`), or as the built CLI in a child process where a file must
 * be unreadable: root reads everything, so those run as `nobody` when the tests run as root.
 * Each test failed before its fix; the defect's number is in its `describe`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Compiler, formatDiagnostic, parseImageRef, type Plugin, type RepositoryState } from "@dockwright/core";
import { emitBuildah } from "@dockwright/emit-buildah";
import { zenml } from "@dockwright/plugin-zenml";
import { stringify } from "yaml";
import { afterAll, describe, expect, test } from "vitest";
import type { Io } from "../packages/cli/src/io.ts";
import { main } from "../packages/cli/src/main.ts";
import { compileConfig } from "../packages/cli/src/pipeline.ts";
import { memoryHost } from "./support/memory-host.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "dockwright-hostile-"));
chmodSync(scratch, 0o755); // the unreadable-file cases run as nobody, who must reach everything else
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const cli = path.join(import.meta.dirname, "..", "packages/cli/dist/bin.js");
const asRoot = process.getuid?.() === 0;

/** Base settings: a parent image, the sources included (so the build context is read). */
const base = { parent_image: "python:3.11-slim", allow_download_from_code_repository: false, allow_download_from_artifact_store: false };

let count = 0;
/** A source root with these files and a run configuration in it (relative paths in settings start at its folder). */
function project(config: unknown, files: Record<string, string> = {}): { root: string; config: string; out: string } {
  const dir = path.join(scratch, `p${count++}`);
  const root = path.join(dir, "root");
  mkdirSync(root, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
  const file = path.join(root, "run.yaml");
  writeFileSync(file, typeof config === "string" ? config : stringify(config));
  return { root, config: file, out: path.join(dir, "out") };
}

type Run = { code: number; stdout: string; stderr: string };

/** `dockwright ARGS` in this process: a crash throws out of here and fails the test. */
async function dw(...args: string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const io: Io = { cwd: scratch, env: {}, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stderrIsTTY: false };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

async function compile(p: { root: string; config: string; out: string }, ...more: string[]): Promise<Run> {
  return dw("compile", p.config, "--root", p.root, "--out", p.out, ...more);
}

/** The built CLI in a child process, as nobody when this runs as root (root reads unreadable files). */
function dwProcess(...args: string[]): Run {
  expect(existsSync(cli), `${cli} is missing: run \`npx tsc -b packages/cli\` first`).toBe(true);
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 60_000, ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Compiles the project with one of its files unreadable, through the built CLI (as nobody, when root). */
function compileUnreadable(p: { root: string; config: string; out: string }, file: string): Run {
  chmodSync(path.dirname(p.root), 0o777); // nobody writes the output beside the root
  chmodSync(path.join(p.root, file), 0o000);
  const run = dwProcess("compile", p.config, "--root", p.root, "--out", p.out);
  expect(run.code, run.stderr).toBe(2);
  noStackTrace(run);
  return run;
}

/** Every file under a folder, for checking that nothing there holds a secret. */
function allText(folder: string): string {
  if (!existsSync(folder)) return "";
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => readFileSync(path.join(d.parentPath, d.name), "latin1"))
    .join("\n");
}

/** A user mistake ends with a message, never with a stack trace. */
function noStackTrace(run: Run): void {
  expect(run.stderr).not.toMatch(/\n\s+at |Error:|Maximum call stack/);
}

describe("1: the source root's .dockerignore is read only inside the root, only as a regular file", () => {
  const key = path.join(scratch, "id_rsa");
  writeFileSync(key, "-----BEGIN OPENSSH PRIVATE KEY-----\nKEYMATERIAL0123456789\n-----END OPENSSH PRIVATE KEY-----\n");

  test("a link to a file outside the root is refused, and no line of it reaches an output", async () => {
    const p = project({ settings: { docker: base } }, { "app.py": "" });
    symlinkSync(key, path.join(p.root, ".dockerignore"));
    const run = await compile(p);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("leads to");
    expect(run.stderr).toContain("outside the source root");
    expect(allText(p.out)).not.toContain("KEYMATERIAL");
    expect(run.stderr).not.toContain("KEYMATERIAL");
  });

  test.each([
    ["a FIFO", (file: string) => execFileSync("mkfifo", [file])],
    ["a link to /dev/zero", (file: string) => symlinkSync("/dev/zero", file)],
  ])("%s as the root's .dockerignore ends at once with an error", async (_, make) => {
    const p = project({ settings: { docker: base } }, { "app.py": "" });
    make(path.join(p.root, ".dockerignore"));
    const run = await compile(p);
    expect(run.code).toBe(2);
    noStackTrace(run);
  });

  test.each(["build_config", "parent_image_build_config"])("a FIFO named by %s.dockerignore ends at once with an error", async (setting) => {
    const settings = setting === "build_config" ? { ...base, build_config: { dockerignore: "ignore" } } : { dockerfile: "Dockerfile", parent_image_build_config: { dockerignore: "ignore" } };
    const p = project({ settings: { docker: settings } }, { "Dockerfile": "FROM scratch\n" });
    execFileSync("mkfifo", [path.join(p.root, "ignore")]);
    const run = await compile(p);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("is not a regular file");
  });
});

describe("4: a path that cannot be resolved is the setting's error, never a crash", () => {
  /** Each way a path can fail other than not existing; each makes `bad` in the root. */
  const triggers: [string, (root: string) => string][] = [
    ["a loop of links", (root) => (symlinkSync("loop-b", path.join(root, "loop-a")), symlinkSync("loop-a", path.join(root, "loop-b")), "loop-a")],
    ["a chain of 45 links", (root) => {
      writeFileSync(path.join(root, "end"), "numpy\n");
      for (let i = 0; i < 45; i++) symlinkSync(i === 0 ? "end" : `chain-${i - 1}`, path.join(root, `chain-${i}`));
      return "chain-44";
    }],
    ["a path through a regular file", (root) => (writeFileSync(path.join(root, "plain"), ""), "plain/inside")],
    ["a 300-character name", () => "n".repeat(300)],
  ];
  const settings: [string, (bad: string) => Record<string, unknown>, string][] = [
    ["requirements", (bad) => ({ ...base, requirements: bad }), "requirements"],
    ["dockerfile", (bad) => ({ dockerfile: bad }), "dockerfile"],
    ["build_context_root", (bad) => ({ dockerfile: "Dockerfile", build_context_root: bad }), "build_context_root"],
    ["build_config.dockerignore", (bad) => ({ ...base, build_config: { dockerignore: bad } }), "build_config.dockerignore"],
    ["parent_image_build_config.dockerignore", (bad) => ({ dockerfile: "Dockerfile", parent_image_build_config: { dockerignore: bad } }), "parent_image_build_config.dockerignore"],
    ["a -r include", (bad) => ({ ...base, requirements: "requirements.txt", _include: bad }), "requirements"],
  ];

  const cases = triggers.flatMap(([trigger, make]) => settings.map(([setting, docker, at]) => [`${setting}: ${trigger}`, make, docker, at] as const));
  test.each(cases)("%s", async (_, make, docker, at) => {
    const p = project({}, { Dockerfile: "FROM scratch\n" });
    const bad = make(p.root);
    const { _include, ...settings } = docker(bad) as Record<string, unknown> & { _include?: string };
    if (_include !== undefined) writeFileSync(path.join(p.root, "requirements.txt"), `numpy\n-r ${_include}\n`);
    writeFileSync(p.config, stringify({ settings: { docker: settings } }));
    const result = await compileConfig({ configPath: p.config, root: p.root, out: p.out });
    if ("message" in result) throw new Error(result.message);
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    expect(errors.map((d) => [d.code, d.path])).toEqual([["INVALID_PATH", `settings.docker.${at}`]]);
  });

  test("a NUL in a -r include", async () => {
    const p = project({ settings: { docker: { ...base, requirements: "requirements.txt" } } }, { "requirements.txt": "numpy\n-r a\u0000b.txt\n" });
    const run = await compile(p);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("holds a NUL character");
  });

  test.each(["requirements", "dockerfile", "a -r include"])("an unreadable file named by %s", (setting) => {
    const docker = setting === "dockerfile" ? { dockerfile: "secret.txt" } : { ...base, requirements: setting === "requirements" ? "secret.txt" : "requirements.txt" };
    const p = project({ settings: { docker } }, { "secret.txt": "numpy\n", "requirements.txt": "-r secret.txt\n" });
    expect(compileUnreadable(p, "secret.txt").stderr).toContain("permission denied");
  });
});

// Fixed by the keys of the restructured compiler (issue 12: ZenML's build keys, `<step>.orchestrator`):
// this guards them. Before, a step named `pipeline` overwrote the pipeline image.
describe("5: every image has an output folder of its own", () => {
  // The issue's cases (`pipeline`, `train-parent` beside `train`, `plan.json`) and the names of today's keys.
  test("steps named like the pipeline's image, its intermediate, OUT's own files, and a Dockerfile parent", async () => {
    const step = (docker: Record<string, unknown>) => ({ settings: { docker } });
    const p = project({
      settings: { docker: { ...base, dockerfile: "Dockerfile", parent_image: undefined, environment: { WHO: "pipeline" } } },
      steps: {
        pipeline: step({ environment: { WHO: "step pipeline" } }),
        orchestrator: step({ environment: { WHO: "step orchestrator" } }),
        "orchestrator.intermediate": step({ environment: { WHO: "step orchestrator.intermediate" } }),
        "plan.json": step({ environment: { WHO: "step plan.json" } }),
        "train-parent": step({ environment: { WHO: "step train-parent" } }),
        train: step({ environment: { WHO: "step train" } }),
        plain: {},
      },
    }, { Dockerfile: "FROM python:3.11-slim\n" });
    const run = await compile(p, "--target", "dockerfile");
    expect(run.stderr).not.toMatch(/^error/m);
    expect(run.code).toBe(0);
    const plan = JSON.parse(readFileSync(path.join(p.out, "plan.json"), "utf8")) as { images: { key: string }[]; steps: Record<string, string> };
    const keys = plan.images.map((i) => i.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const [name, key] of Object.entries(plan.steps)) {
      const dockerfile = readFileSync(path.join(p.out, key, "Dockerfile"), "utf8");
      expect(dockerfile).toContain(`ENV WHO="${name === "plain" ? "pipeline" : `step ${name}`}"`);
    }
    expect(readdirSync(p.out, { recursive: true }).filter((f) => String(f).endsWith(".tmp"))).toEqual([]);
  });
});

describe("6: every image's tag is its own and a valid reference", () => {
  const long = (c: string) => c.repeat(100);
  /** Tags by image key, after checking each is a reference Docker accepts (a tag of at most 128 characters). */
  async function tags(config: unknown, ...more: string[]): Promise<Map<string, string>> {
    const p = project(config, { Dockerfile: "FROM python:3.11-slim\n" });
    const run = await compile(p, "--target", "dockerfile", "--pipeline", long("p"), ...more);
    expect(run.stderr).not.toMatch(/^error/m);
    expect(run.code).toBe(0);
    const plan = JSON.parse(readFileSync(path.join(p.out, "plan.json"), "utf8")) as { images: { key: string; tag: string }[] };
    for (const { tag } of plan.images) {
      expect(parseImageRef(tag), tag).toMatchObject({ ok: true });
      expect(tag.slice(tag.lastIndexOf(":") + 1).length).toBeLessThanOrEqual(128);
    }
    expect(new Set(plan.images.map((i) => i.tag)).size).toBe(plan.images.length);
    return new Map(plan.images.map((i) => [i.key, i.tag]));
  }
  const steps = {
    [`${long("s")}1`.slice(1)]: { settings: { docker: { environment: { A: "1" } } } },
    [`${long("s")}2`.slice(1)]: { settings: { docker: { environment: { A: "2" } } } },
  };

  test("long pipeline and step names, cut where ZenML cuts them: each tag ends in a hash of its whole name", async () => {
    const found = await tags({ settings: { docker: { ...base, dockerfile: "Dockerfile", parent_image: undefined } }, steps });
    // Each step's image and its intermediate (no step runs in the pipeline's own settings).
    expect([...found.keys()].filter((key) => key.startsWith("s"))).toHaveLength(4);
  });

  test.each(["0.83.0", "0.70.0"])("an intermediate tag past 128 characters in ZenML %s, which cuts no tag", async (release) => {
    // 100 + 1 + 13 (`-orchestrator`) = 114 characters: a valid tag, and 133 with `-intermediate-build`.
    const found = await tags({ settings: { docker: { ...base, dockerfile: "Dockerfile", parent_image: undefined } } }, "--zenml-version", release);
    expect(found.get("orchestrator")).toBe(`zenml:${long("p")}-orchestrator`);
  });
});

describe("7: build.sh is refused when an argument exceeds what a process receives", () => {
  const compiled = async (docker: Record<string, unknown>) => {
    const result = await new Compiler([zenml()]).compile({ config: { settings: { docker: { ...base, ...docker } } }, pipelineName: "p", host: memoryHost({ Dockerfile: "FROM scratch\n" }) });
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    // The image built from the user's Dockerfile when there is one: it carries the build options.
    const images = result.plan!.images;
    return images.find((image) => image.parent.kind === "dockerfile") ?? images.at(-1)!;
  };

  test.each([
    ["16,000 apt packages", { apt_packages: Array.from({ length: 16_000 }, (_, i) => `package-number-${i}`) }, "apt_packages"],
    ["a 140 KB install command", { local_project_install_command: `pip install ${"x".repeat(140_000)}` }, "local_project_install_command"],
    ["a 140 KB build argument", { dockerfile: "Dockerfile", parent_image: undefined, parent_image_build_config: { build_options: { buildargs: { BIG: "x".repeat(140_000) } } } }, "parent_image_build_config.build_options"],
  ])("%s", async (_, docker, at) => {
    const artifacts = emitBuildah(await compiled(docker));
    expect(artifacts.files).toEqual([]);
    expect(artifacts.diagnostics.map((d) => [d.code, d.path])).toEqual([["UNSUPPORTED_BY_BACKEND", at]]);
  });

  // A guard: such keys once reached a lookup that found Object's own functions.
  test("build options named like Object's own properties are no options", async () => {
    const artifacts = emitBuildah(await compiled({ dockerfile: "Dockerfile", parent_image: undefined, parent_image_build_config: { build_options: { constructor: "x", toString: "y" } } }));
    expect(artifacts.diagnostics.map((d) => d.path)).toEqual(["parent_image_build_config.build_options.constructor", "parent_image_build_config.build_options.toString"]);
  });
});

describe("10: the output folder never enters the build context", () => {
  test.each(["!out", " x", "x ", "link"])("an output folder %j inside the root: the checksum stays the same", async (name) => {
    const p = project({ settings: { docker: base } }, { "app.py": "print(1)\n" });
    const out = path.join(p.root, name);
    if (name === "link") {
      mkdirSync(path.join(p.root, "real-out"));
      symlinkSync("real-out", out);
    }
    const checksum = async () => {
      const run = await dw("compile", p.config, "--root", p.root, "--out", out, "--target", "dockerfile");
      expect(run.code, run.stderr).toBe(0);
      return (JSON.parse(readFileSync(path.join(out, "plan.json"), "utf8")) as { images: { checksum: string }[] }).images[0]!.checksum;
    };
    const first = await checksum();
    expect(await checksum()).toBe(first);
    expect(await checksum()).toBe(first);
  });
});

describe("11: credentials in index URLs are refused, never echoed", () => {
  test("in python_package_installer_args", async () => {
    const p = project({ settings: { docker: { ...base, python_package_installer_args: { "extra-index-url": "https://user:tok3n-value@pypi.example.com/simple" } } } });
    const run = await compile(p);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("CREDENTIAL_IN_URL");
    expect(run.stderr).toContain("PIP_EXTRA_INDEX_URL");
    expect(run.stderr + run.stdout + allText(p.out)).not.toContain("tok3n-value");
  });

  test("in a requirements file", async () => {
    const p = project({ settings: { docker: { ...base, requirements: "requirements.txt" } } }, { "requirements.txt": "--extra-index-url https://tok3n-value@pypi.example.com/simple\nnumpy\n" });
    const run = await compile(p);
    expect(run.code).toBe(2);
    expect(run.stderr + allText(p.out)).not.toContain("tok3n-value");
  });
});

describe("12: the artifact-store code archive", () => {
  const archiveMode = { parent_image: "python:3.11-slim", allow_download_from_code_repository: false, allow_download_from_artifact_store: true };

  test("warns about files that look like secrets", async () => {
    const p = project({ settings: { docker: archiveMode } }, { "app.py": "", ".env": "A=1\n", "keys/id_rsa": "k\n", ".aws/credentials": "[default]\n" });
    const run = await compile(p);
    expect(run.code).toBe(0);
    for (const file of [".env", "keys/id_rsa", ".aws/credentials"]) expect(run.stderr).toContain(`warning CONTEXT_WARNING at ${file}: ${file} looks like`);
    expect(run.stderr).toContain("code archive");
  });

  test("an unreadable source file is an error naming it", () => {
    const p = project({ settings: { docker: archiveMode } }, { "app.py": "", "private.txt": "x" });
    expect(compileUnreadable(p, "private.txt").stderr).toContain("private.txt");
  });
});

describe("13: writes never follow a link out of the output folder", () => {
  test("a link named like an image folder is refused, and its target untouched", async () => {
    const p = project({ settings: { docker: base } }, { "app.py": "" });
    const elsewhere = path.join(scratch, `elsewhere-${count++}`);
    mkdirSync(elsewhere);
    mkdirSync(p.out);
    symlinkSync(elsewhere, path.join(p.out, "orchestrator"));
    const run = await compile(p);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("is a symbolic link, and Dockwright never writes through one");
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  test("links named like our files are replaced, not written through", async () => {
    const p = project({ settings: { docker: base } }, { "app.py": "" });
    const victim = path.join(scratch, `victim-${count++}`);
    writeFileSync(victim, "keep me\n");
    mkdirSync(path.join(p.out, "orchestrator"), { recursive: true });
    symlinkSync(victim, path.join(p.out, "orchestrator", "Dockerfile"));
    symlinkSync(victim, path.join(p.out, "plan.json"));
    expect((await compile(p)).code).toBe(0);
    expect(readFileSync(victim, "utf8")).toBe("keep me\n");
    expect(lstatSync(path.join(p.out, "orchestrator", "Dockerfile")).isFile()).toBe(true);
  });

  test.each(["builds.jsonl", "last-compile.json"])("a link at .dockwright/%s is refused", async (name) => {
    const p = project({ settings: { docker: base } }, { "app.py": "" });
    mkdirSync(path.join(p.out, ".dockwright"), { recursive: true });
    symlinkSync(path.join(scratch, "id_rsa"), path.join(p.out, ".dockwright", name));
    const run = await compile(p);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("is a symbolic link");
  });
});

describe("14: secret values are never shown in messages", () => {
  const messages = async (docker: Record<string, unknown>) => {
    const result = await new Compiler([zenml()]).compile({ config: { settings: { docker } }, pipelineName: "p", host: memoryHost() });
    return result.diagnostics.map(formatDiagnostic).join("\n");
  };

  test("a newline in environment.api_token", async () => {
    const text = await messages({ ...base, environment: { api_token: "tok3n-value\nsecond line" } });
    expect(text).toContain("UNSAFE_VALUE at settings.docker.environment.api_token");
    expect(text).not.toContain("tok3n-value");
  });

  test("a skip_build warning about hf_token", async () => {
    const text = await messages({ parent_image: "python:3.11", skip_build: true, environment: { hf_token: "hf_s3cr3t", OTHER: "shown" } });
    expect(text).toContain("SETTING_IGNORED at settings.docker.environment");
    expect(text).not.toContain("hf_s3cr3t");
  });

  test("a build argument named like a secret", async () => {
    const text = await messages({ dockerfile: "Dockerfile", parent_image_build_config: { build_options: { buildargs: { GITHUB_TOKEN: "ghp_s3cr3t\n" } } } });
    expect(text).toContain("UNSAFE_VALUE");
    expect(text).not.toContain("ghp_s3cr3t");
  });
});

describe("15: nothing printed can forge a line or drive the terminal", () => {
  /** No printed line starts like a forged diagnostic, and no escape sequence reaches the terminal. */
  const unforged = (run: Run) => {
    expect(run.stderr.split("\n").filter((line) => line.startsWith("error FAKE_CODE"))).toEqual([]);
    expect(run.stderr).not.toMatch(/[\u001b\u009b]/);
  };

  test("file names with a newline and escape sequences", async () => {
    const p = project({ settings: { docker: base } }, { "a\nerror FAKE_CODE at y: forged/.env": "A=1\n", "\u001b[31mred\u001b[0m/.env": "B=2\n", "\u009b2J/.env": "C=3\n" });
    const run = await compile(p);
    expect(run.code, run.stderr).toBe(0);
    unforged(run);
    expect(run.stderr).toContain("a\\nerror FAKE_CODE at y: forged/.env");
  });

  test("a stack component type with a newline", async () => {
    const run = await compile(project({ settings: { docker: base }, stack: { components: [{ type: "orchestrator\nerror FAKE_CODE at x: forged", flavor: "local" }] } }));
    expect(run.code).toBe(2);
    unforged(run);
    expect(run.stderr).toContain("orchestrator\\nerror FAKE_CODE");
  });

  test("dockwright init names a source root with a newline and an escape on one line", async () => {
    const root = path.join(scratch, "r\nerror FAKE_CODE at x: forged\u001b[2J");
    mkdirSync(path.join(root, "sub"), { recursive: true });
    mkdirSync(path.join(root, ".zen"));
    let stdout = "";
    const io: Io = { cwd: path.join(root, "sub"), env: {}, stdout: (t) => (stdout += t), stderr: () => {}, stderrIsTTY: false };
    expect(await main(["init", "run.yaml"], io)).toBe(0);
    expect(stdout.split("\n").filter((line) => line.startsWith("error FAKE_CODE"))).toEqual([]);
    expect(stdout).not.toMatch(/\u001b/);
    expect(stdout).toContain("r\\nerror FAKE_CODE at x: forged\\u001b[2J");
  });

  test("an output folder named with a newline: each result is one line", async () => {
    const p = project({ settings: { docker: base } });
    const run = await compile({ ...p, out: path.join(path.dirname(p.out), "o\nplan: forged") });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split("\n").filter((line) => line.startsWith("plan:"))).toEqual([expect.stringMatching(/^plan: .*o\\nplan: forged\/plan\.json$/)]);
    expect(run.stdout.trimEnd().split("\n")).toHaveLength(2);
  });

  test("dockwright context lists such names on one line each", async () => {
    const p = project({}, { "a\nb.txt": "", "c\u2028d.txt": "", "e\u001b[2Jf.txt": "" });
    const run = await dw("context", p.root);
    expect(run.stdout.split("\n").filter(Boolean)).toEqual(['"a\\nb.txt"', '"c\\u2028d.txt"', '"e\\u001b[2Jf.txt"', "run.yaml"]);
  });
});

describe("16: a YAML alias inside its own anchor", () => {
  test.each(["settings:\n  docker:\n    apt_packages: &a [git, *a]\n", "settings:\n  docker:\n    build_options: &o {x: *o}\n"])("%j is refused", async (text) => {
    const run = await compile(project(text));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("lies inside the node it names");
  });

  test("a cyclic object given to the library is a diagnostic", async () => {
    const packages: unknown[] = ["git"];
    packages.push(packages);
    const result = await new Compiler([zenml()]).compile({ config: { settings: { docker: { apt_packages: packages } } }, pipelineName: "p", host: memoryHost() });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([expect.stringContaining("settings.docker.apt_packages[1]: the value contains itself")]);
  });
});

describe("17: values from the code repository are checked", () => {
  const repository = (state: Partial<RepositoryState>): Plugin => ({
    name: "FakeRepository",
    core: "^0.1.0",
    apply: (compiler) => void compiler.hooks.codeRepository.tapPromise("FakeRepository", async () => ({
      url: "https://example.com/r.git", commit: "a".repeat(40), subdirectory: "", dirty: false, unpushed: false, problems: [], ...state,
    })),
  });
  const compiled = async (state: Partial<RepositoryState>, include: boolean) => {
    const docker = { parent_image: "python:3.11", allow_download_from_code_repository: true, allow_download_from_artifact_store: false, allow_including_files_in_images: include };
    const config = { settings: { docker }, code_repository: { type: "github" } };
    const result = await new Compiler([zenml(), repository(state)]).compile({ config, pipelineName: "p", host: memoryHost() });
    return { messages: result.diagnostics.map(formatDiagnostic), mode: result.plan?.images[0]?.sources.mode };
  };

  test("a clean repository is used", async () => {
    expect(await compiled({}, true)).toEqual({ messages: [], mode: "code-repository" });
  });

  test.each([
    ["a remote URL with a newline", { url: "https://example.com/r.git\nRUN evil" }],
    ["a folder `nl\\ndir`", { subdirectory: "nl\ndir" }],
    ["a remote URL with a credential", { url: "https://user:tok3n-value@example.com/r.git" }],
  ])("%s: the repository is not used, and why is said", async (_, state) => {
    const included = await compiled(state, true);
    expect(included.mode).toBe("include");
    expect(included.messages).toEqual([expect.stringMatching(/^warning CODE_DOWNLOAD_UNAVAILABLE at code_repository: the code repository cannot be used: the repository's /)]);
    expect(included.messages.join("\n")).not.toContain("tok3n-value");
    const refused = await compiled(state, false);
    expect(refused.mode).toBeUndefined();
    expect(refused.messages).toContainEqual(expect.stringMatching(/^error CODE_DOWNLOAD_UNAVAILABLE/));
  });
});

describe("18: input is never dropped or altered silently", () => {
  test.each([
    ["an environment key", { settings: { docker: { ...base, environment: JSON.parse('{"__proto__": "x"}') } } }, "settings.docker.environment.__proto__"],
    ["an installer argument key", { settings: { docker: { ...base, python_package_installer_args: JSON.parse('{"__proto__": "x"}') } } }, "settings.docker.python_package_installer_args.__proto__"],
    ["a step name", { steps: JSON.parse('{"__proto__": {"settings": {"docker": {"user": "x"}}}}') }, "steps.__proto__"],
  ])("`__proto__` as %s", async (_, config, at) => {
    const run = await compile(project(config));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error INVALID_CONFIG at ${at}: \`__proto__\` cannot be a key`);
  });

  test.each([
    ["setings:\n  docker:\n    user: x\n", "setings", "settings"],
    ["Steps: {}\n", "Steps", "steps"],
    ["settings:\n  dokcer:\n    user: x\n", "settings.dokcer", "docker"],
    ["steps:\n  train:\n    setings: {}\n", "steps.train.setings", "settings"],
  ])("a typo %j is an error", async (text, at, hint) => {
    const run = await compile(project(text));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error UNKNOWN_KEY at ${at}: unknown key`);
    expect(run.stderr).toContain(`did you mean \`${hint}\`?`);
  });

  test("an integer beyond 2^53 reaches the image as its digits", async () => {
    const p = project("settings:\n  docker:\n    parent_image: python:3.11-slim\n    environment:\n      BIG: 12345678901234567890\n      NEGATIVE: -9007199254740993\n");
    const run = await compile(p, "--target", "dockerfile");
    expect(run.code, run.stderr).toBe(0);
    const dockerfile = readFileSync(path.join(p.out, "orchestrator", "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/\bBIG="?12345678901234567890\b/);
    expect(dockerfile).toMatch(/\bNEGATIVE="?-9007199254740993\b/);
  });

  test("the framework's own keys are left alone", async () => {
    const run = await compile(project({ run_name: "r", enable_cache: false, schedule: {}, tags: ["a"], settings: { docker: base, resources: {} }, steps: { train: { parameters: {}, step_operator: "x" } } }), "--target", "dockerfile");
    expect(run.stderr).toBe("");
  });
});

describe("19: an unusable output folder is an error, not a crash", () => {
  test("OUT/.dockwright/builds.jsonl is a folder", async () => {
    const p = project({ settings: { docker: base } }, { "app.py": "" });
    mkdirSync(path.join(p.out, ".dockwright", "builds.jsonl"), { recursive: true });
    const run = await compile(p);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("builds.jsonl");
    noStackTrace(run);
  });

  test("--out names a file", async () => {
    const p = project({ settings: { docker: base } }, { "app.py": "" });
    writeFileSync(p.out, "");
    const run = await compile(p);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("is not a folder");
  });

  test("--out /proc/1 ends at once", async () => {
    const p = project({ settings: { docker: base } }, { "app.py": "" });
    const run = await dw("compile", p.config, "--root", p.root, "--out", "/proc/1");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("cannot use the output folder");
  });
});
