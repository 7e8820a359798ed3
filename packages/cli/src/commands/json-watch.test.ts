/**
 * The modes for tools and editors: `--json` on compile, build and explain (one JSON object per
 * line on standard output, nothing else there), and `compile --watch`, in-process with a fake Io,
 * plus one real process stopped with SIGINT.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, onTestFinished, test, vi } from "vitest";
import type { Io } from "../io.js";
import { main } from "../main.js";

function project(files: Record<string, string>): { root: string; out: string } {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dockwright-json-")));
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [file, contents] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, "root", file)), { recursive: true });
    fs.writeFileSync(path.join(dir, "root", file), contents, { mode: file.endsWith(".sh") ? 0o755 : 0o644 });
  }
  return { root: path.join(dir, "root"), out: path.join(dir, "out") };
}

const files = {
  ".zen/config.yaml": "",
  "run.yaml": [
    "settings:",
    "  docker:",
    "    parent_image: python:3.11-slim",
    "    requirements: requirements.txt",
    "    environment: {TOKEN_SECRET: x}", // a warning: a secret-looking name
    "    allow_including_files_in_images: true",
    "    allow_download_from_code_repository: false",
    "    allow_download_from_artifact_store: false",
    "steps:",
    "  loader: {}",
    "  trainer: {settings: {docker: {apt_packages: [git]}}}",
    "",
  ].join("\n"),
  "requirements.txt": "pandas==2.2.2\n",
  "app.py": "print('hi')\n",
};

/**
 * A stand-in for buildah that talks on its standard output, as the real one does, and keeps the
 * names of the images it committed or tagged, so that `inspect` finds them.
 */
function fakeBuildah(root: string): string {
  const bin = path.join(path.dirname(root), "fake-buildah.sh");
  const images = path.join(path.dirname(root), "fake-images");
  fs.writeFileSync(bin, [
    "#!/bin/sh",
    `images=${images}`,
    'name() { printf %s "$1" | tr "/:" "__"; }',
    'case "$1" in',
    "  from) echo ctr-1; exit 0 ;;",
    // build.sh pulls the parent for its ID, which names the cached layers.
    "  pull) echo 0123456789abcdef; exit 0 ;;",
    '  commit) mkdir -p "$images"; touch "$images/$(name "$4")" ;;',
    '  tag) mkdir -p "$images"; touch "$images/$(name "$3")" ;;',
    '  inspect) [ -e "$images/$(name "$4")" ] || exit 1 ;;',
    "esac",
    'echo "buildah $*"',
    "",
  ].join("\n"), { mode: 0o755 });
  return bin;
}

type Output = { stdout: string; stderr: string };
function fakeIo(cwd: string, extra: Partial<Io> = {}): { io: Io; output: Output } {
  const output = { stdout: "", stderr: "" };
  const io: Io = { cwd, env: { PATH: process.env["PATH"] }, stdout: (t) => (output.stdout += t), stderr: (t) => (output.stderr += t), stderrIsTTY: false, ...extra };
  return { io, output };
}

async function run(args: string[], cwd: string, stderrIsTTY = false) {
  const { io, output } = fakeIo(cwd, { stderrIsTTY });
  const code = await main(args, io);
  return { code, ...output };
}

/** Standard output as events: every line must be one JSON object. */
function events(stdout: string): Record<string, unknown>[] {
  expect(stdout.endsWith("\n")).toBe(true);
  return stdout.slice(0, -1).split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The kinds of the events, a run of diagnostics as one. */
const kinds = (stream: Record<string, unknown>[]) =>
  stream.map((e) => `${e["event"]}${e["action"] ? ` ${e["action"]}` : ""}`).filter((kind, i, all) => kind !== "diagnostic" || all[i - 1] !== "diagnostic");

describe("--json", () => {
  test("compile: diagnostics, each image written, a summary; nothing else on stdout", async () => {
    const { root, out } = project(files);
    const result = await run(["compile", "run.yaml", "--json", "--out", out], root);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const stream = events(result.stdout);
    expect(kinds(stream)).toEqual(["diagnostic", "image written", "image written", "summary"]);
    expect(stream[0]).toMatchObject({ severity: "warning", code: "SECRET_IN_ENVIRONMENT", path: "settings.docker.environment.TOKEN_SECRET" });
    const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8")) as { images: { key: string; tag: string; checksum: string }[] };
    expect(stream.filter((e) => e["event"] === "image")).toEqual(plan.images.map(({ key, tag, checksum }) => ({
      event: "image", action: "written", key, tag, checksum, mode: "build", reusable: false, sources: { mode: "include" }, folder: path.join(out, key),
    })));
    expect(stream.at(-1)).toEqual({ event: "summary", command: "compile", ok: true, exitCode: 0, out, plan: path.join(out, "plan.json"), images: 2 });
  });

  test("invalid input: the error and the summary as events, exit code 2", async () => {
    const { root, out } = project({ ...files, "run.yaml": "settings: {docker: {requirements: requirements.txt, apt_packages: [\"bad name\"]}}\n" });
    const result = await run(["compile", "run.yaml", "--json", "--out", out], root);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("");
    const stream = events(result.stdout);
    expect(stream.map((e) => e["event"])).toEqual(["diagnostic", "error", "summary"]);
    expect(stream[0]).toMatchObject({ severity: "error", path: "settings.docker.apt_packages[0]" });
    expect(stream.at(-1)).toEqual({ event: "summary", command: "compile", ok: false, exitCode: 2 });

    const usage = await run(["compile", "--json", "--no-such-flag"], root);
    expect(usage.code).toBe(2);
    expect(events(usage.stdout).map((e) => e["event"])).toEqual(["error", "summary"]);
  });

  test("explain: per image, reuse, what rebuilds and where each requirement comes from", async () => {
    const { root, out } = project(files);
    expect((await run(["compile", "run.yaml", "--out", out], root)).code).toBe(0);
    fs.writeFileSync(path.join(root, "requirements.txt"), "pandas==2.2.3\n");
    const result = await run(["explain", "run.yaml", "--json", "--no-resolve", "--out", out], root);
    expect(result.code).toBe(0);
    const stream = events(result.stdout);
    expect(kinds(stream)).toEqual(["diagnostic", "explain", "explain", "summary"]);
    expect(stream.find((e) => e["event"] === "explain")).toMatchObject({
      event: "explain", key: "orchestrator", reusable: false, mode: "build",
      rebuild: { verdict: "rebuild", kind: "requirements" },
      requirements: [{ file: ".zenml_user_requirements", origin: "user", lines: [{ text: "pandas==2.2.3", from: ["requirements.txt:1 (settings.docker.requirements)"] }] }],
    });
  });

  test("build: each image built, then reused; the tool's output stays off stdout", async () => {
    const { root, out } = project(files);
    const bin = fakeBuildah(root);
    // The parent is not in a registry here: nothing to resolve.
    const args = ["build", "run.yaml", "--builder", "buildah", "--buildah", bin, "--no-resolve", "--json", "--out", out];
    const first = await run(args, root);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain("buildah run");
    const stream = events(first.stdout);
    expect(kinds(stream)).toEqual(["diagnostic", "image built", "image built", "summary"]);
    // Both at once (two jobs): reported as each finishes.
    expect(stream.find((e) => e["event"] === "image" && e["key"] === "orchestrator")).toMatchObject({ tag: "zenml:run-orchestrator", folder: path.join(out, "orchestrator"), builder: "buildah", contentTag: expect.stringMatching(/^zenml:dockwright-[0-9a-f]{64}$/) });
    expect(stream.at(-1)).toEqual({ event: "summary", command: "build", ok: true, exitCode: 0, out, plan: path.join(out, "plan.json"), built: 2, reused: 0, skipped: 0, pushed: 0 });

    const again = events((await run(args, root)).stdout);
    expect(again.filter((e) => e["event"] === "image").map((e) => e["action"])).toEqual(["reused", "reused"]);

    fs.writeFileSync(bin, "#!/bin/sh\necho failing; exit 3\n", { mode: 0o755 });
    fs.writeFileSync(path.join(root, "requirements.txt"), "pandas==2.2.3\n");
    // One at a time: the first image fails, the second never starts.
    const failed = await run([...args, "--jobs", "1"], root);
    expect(failed.code).toBe(1);
    expect(events(failed.stdout).slice(-3)).toMatchObject([
      { event: "image", action: "failed", key: "orchestrator", exitCode: 3 },
      { event: "error", message: expect.stringContaining("failed to build zenml:run-orchestrator (exit code 3)") },
      { event: "summary", command: "build", ok: false, exitCode: 1 },
    ]);
  });
});

describe("progress on standard error", () => {
  test("on a terminal only: the walk of a slow context, and each image a build starts", async () => {
    const { root, out } = project(files);
    let now = 0;
    const spy = vi.spyOn(performance, "now").mockImplementation(() => (now += 200)); // a slow walk
    onTestFinished(() => spy.mockRestore());
    const compiled = await run(["compile", "run.yaml", "--out", out], root, true);
    expect(compiled.stderr).toMatch(/\r\x1b\[Kdockwright: reading the build context: \d+ files, [^\r]*\r\x1b\[K/);
    expect((await run(["compile", "run.yaml", "--out", out], root, false)).stderr).not.toContain("\r");

    const bin = fakeBuildah(root);
    const built = await run(["build", "run.yaml", "--builder", "buildah", "--buildah", bin, "--no-resolve", "--out", out], root, true);
    expect(built.stderr).toContain("dockwright: building 1 of 2: zenml:run-orchestrator with buildah\n");
    expect(built.stderr).toContain("dockwright: building 2 of 2: zenml:run-trainer-orchestrator with buildah\n");
    fs.writeFileSync(path.join(root, "requirements.txt"), "pandas==2.2.3\n");
    expect((await run(["build", "run.yaml", "--builder", "buildah", "--buildah", bin, "--no-resolve", "--out", out], root, false)).stderr).not.toContain("building");
  });
});

/** Resolves once `output` holds `count` matches of `pattern`. */
async function waitFor(output: Output, stream: keyof Output, pattern: RegExp, count = 1): Promise<void> {
  for (let waited = 0; (output[stream].match(new RegExp(pattern, "g")) ?? []).length < count; waited += 20) {
    if (waited > 10_000) throw new Error(`no ${count}x ${pattern} in ${stream}:\n${output[stream]}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("compile --watch", () => {
  test("recompiles once per change of the configuration, a requirements file or the .dockerignore", async () => {
    const { root, out } = project(files);
    let interrupt!: () => void;
    const { io, output } = fakeIo(root, { interrupted: () => new Promise<void>((resolve) => (interrupt = resolve)) });
    const running = main(["compile", "run.yaml", "--watch", "--out", out], io);
    await waitFor(output, "stderr", /watching 3 files/);
    const dockerfile = () => fs.readFileSync(path.join(out, "orchestrator", "Dockerfile"), "utf8");
    const user = () => fs.readFileSync(path.join(out, "orchestrator", ".zenml_user_requirements"), "utf8");

    fs.writeFileSync(path.join(root, "requirements.txt"), "pandas==2.2.3\n");
    await waitFor(output, "stdout", /recompiled/);
    expect(user()).toBe("pandas==2.2.3\n");

    // An editor's save: a new file renamed over the old one, several events close together.
    fs.writeFileSync(path.join(root, ".dockerignore.tmp"), "*.log\n");
    fs.renameSync(path.join(root, ".dockerignore.tmp"), path.join(root, ".dockerignore"));
    fs.appendFileSync(path.join(root, ".dockerignore"), "build/\n");
    await waitFor(output, "stdout", /recompiled/, 2);

    fs.writeFileSync(path.join(root, "run.yaml"), files["run.yaml"].replace("python:3.11-slim", "python:3.12-slim"));
    await waitFor(output, "stdout", /recompiled/, 3);
    expect(dockerfile()).toMatch(/^FROM python:3\.12-slim\n/);

    // A file the settings name is watched from the compile that names it on.
    fs.writeFileSync(path.join(root, "extra.txt"), "numpy\n");
    fs.writeFileSync(path.join(root, "run.yaml"), files["run.yaml"].replace("requirements: requirements.txt", "requirements: extra.txt"));
    await waitFor(output, "stdout", /recompiled/, 4);
    fs.writeFileSync(path.join(root, "extra.txt"), "numpy==2.0.0\n");
    await waitFor(output, "stdout", /recompiled/, 5);
    expect(user()).toBe("numpy==2.0.0\n");

    // A broken configuration keeps the last good output and the watch.
    fs.writeFileSync(path.join(root, "run.yaml"), "settings: [\n");
    await waitFor(output, "stdout", /recompiled/, 6);
    expect(user()).toBe("numpy==2.0.0\n");

    fs.writeFileSync(path.join(root, "app.py"), "print('a source file is no input of the plan')\n");
    await new Promise((resolve) => setTimeout(resolve, 500));
    interrupt();
    expect(await running).toBe(0);

    const lines = output.stdout.split("\n").filter((line) => line.includes("recompiled"));
    expect(lines.map((line) => line.replace(/^\d\d:\d\d:\d\d /, ""))).toEqual([
      "recompiled after a change to requirements.txt: 2 images, 2 changed",
      "recompiled after a change to .dockerignore: 2 images, 2 changed",
      "recompiled after a change to run.yaml: 2 images, 2 changed",
      "recompiled after a change to run.yaml: 2 images, 2 changed",
      "recompiled after a change to extra.txt: 2 images, 2 changed",
      "recompiled after a change to run.yaml: failed (see above); the last good output stays",
    ]);
    expect(output.stderr).toMatch(/the configuration ".*run\.yaml" is not valid YAML or JSON/);
  });

  test("a real process exits cleanly on SIGINT", async () => {
    const cli = path.resolve(import.meta.dirname, "../../dist/bin.js");
    expect(fs.existsSync(cli), `${cli} is missing: run \`npx tsc -b packages/cli\` first`).toBe(true);
    const { root, out } = project(files);
    const child = spawn(process.execPath, [cli, "compile", "run.yaml", "--watch", "--out", out], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    const output = { stdout: "", stderr: "" };
    child.stdout.on("data", (chunk: Buffer) => (output.stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("exit", (code, signal) => resolve([code, signal])));
    await waitFor(output, "stderr", /watching/);
    child.kill("SIGINT");
    expect(await exited).toEqual([0, null]);
    expect(output.stdout).toContain("plan: ");
  });
});
