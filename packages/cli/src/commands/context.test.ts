/** `dockwright context`, run in-process with a fake Io. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, onTestFinished, test, vi } from "vitest";
import type { Io } from "../io.js";
import { contextCommand } from "./context.js";

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "dockwright-cli-context-"));
  onTestFinished(() => fs.rmSync(root, { recursive: true, force: true }));
  for (const [file, contents] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), contents);
  }
  return root;
}

async function run(args: string[], cwd: string, stderrIsTTY = false) {
  let stdout = "";
  let stderr = "";
  const io: Io = { cwd, env: {}, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stderrIsTTY };
  const code = await contextCommand(args, io);
  return { code, stdout, stderr };
}

const project = {
  ".dockerignore": "# build context\n.git\n**/__pycache__\n*.log\n",
  ".git/HEAD": "ref",
  ".zen/config.yaml": "",
  "app.py": "print('hi')\n",
  "debug.log": "",
  "pkg/__pycache__/m.pyc": "",
  "pkg/m.py": "x = 1\n",
  "pkg/sub dir/data file.csv": "a,b\n",
};

describe("dockwright context", () => {
  test("prints one sorted relative path per line", async () => {
    const root = tree(project);
    const result = await run([root], "/");
    expect(result).toEqual({ code: 0, stdout: ".dockerignore\n.zen/config.yaml\napp.py\npkg/m.py\npkg/sub dir/data file.csv\n", stderr: "" });
  });

  test("without DIR, the source root found from the working directory", async () => {
    const root = tree(project);
    const result = await run([], path.join(root, "pkg"));
    expect(result.stdout.split("\n")).toContain("app.py");
  });

  test("--json gives sizes, totals and warnings", async () => {
    const root = tree({ ...project, ".env": "TOKEN=1\n" });
    const result = await run([root, "--json"], "/");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.root).toBe(root);
    expect(report.dockerignore).toBe(path.join(root, ".dockerignore"));
    expect(report.files).toContainEqual({ path: "app.py", type: "file", size: 12 });
    expect(report.dirs).toEqual([".zen", "pkg", "pkg/sub dir"]);
    expect(report.totals).toEqual({ files: 6, dirs: 3, bytes: report.files.reduce((sum: number, f: { size: number }) => sum + f.size, 0) });
    expect(report.warnings).toMatchObject([{ code: "CONTEXT_WARNING", path: ".env" }]);
    expect(result.stderr).toBe("");
  });

  test("folders are in --json, empty ones and those whose files are all excluded too; never in the listing", async () => {
    const root = tree({ "app.py": "", "data/a.csv": "", "logs/x.log": "", ".dockerignore": "data/*.csv\nlogs\n" });
    fs.mkdirSync(path.join(root, "empty"));
    expect(JSON.parse((await run([root, "--json"], "/")).stdout).dirs).toEqual(["data", "empty"]);
    expect((await run([root], "/")).stdout).toBe(".dockerignore\napp.py\n");
  });

  test("--dockerignore FILE is relative to the working directory and wins", async () => {
    const root = tree({ ...project, "ci/ignore": "*\n!app.py\n" });
    expect((await run([".", "--dockerignore", "ci/ignore"], root)).stdout).toBe(".zen/config.yaml\napp.py\n");
  });

  test("warnings go to standard error in text mode", async () => {
    const root = tree({ "id_rsa": "-----BEGIN" });
    const result = await run([root], "/");
    expect(result.stdout).toBe("id_rsa\n");
    expect(result.stderr).toMatch(/^warning CONTEXT_WARNING at id_rsa: .*SSH private key/);
  });

  test("a path that would break the one-per-line format is quoted", async () => {
    const root = tree({ "new\nline": "", 'quo"te': "", plain: "" });
    expect((await run([root], "/")).stdout).toBe('"new\\nline"\nplain\n"quo\\"te"\n');
  });

  test("a bad pattern: exit 2 with its line number, no stack trace", async () => {
    const root = tree({ ".dockerignore": "ok\n[\n" });
    const result = await run([root], "/");
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^dockwright: error INVALID_DOCKERIGNORE at .*\.dockerignore:2: line 2 /);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test("a missing folder or ignore file: exit 2 naming it", async () => {
    const root = tree({});
    expect(await run([path.join(root, "nope")], "/")).toMatchObject({ code: 2, stderr: expect.stringMatching(/FILE_NOT_FOUND .*nope/) });
    expect(await run([root, "--dockerignore", "missing"], root)).toMatchObject({ code: 2, stderr: expect.stringMatching(/FILE_NOT_FOUND .*missing/) });
  });

  test("usage errors and --help", async () => {
    expect((await run(["a", "b"], "/")).code).toBe(2);
    expect((await run(["--bogus"], "/")).code).toBe(2);
    const help = await run(["--help"], "/");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: dockwright context \[DIR\]/);
  });

  test("a progress line on a terminal during a long walk, cleared at the end; none otherwise", async () => {
    const root = tree(project);
    let now = 0;
    const spy = vi.spyOn(performance, "now").mockImplementation(() => (now += 200)); // a slow walk
    onTestFinished(() => spy.mockRestore());
    const tty = await run([root], "/", true);
    expect(tty.stderr).toMatch(/^(\r\x1b\[Kdockwright: reading the build context: \d+ files, [^\r]*)+\r\x1b\[K$/);
    expect(tty.stdout).toContain("app.py\n");
    expect((await run([root], "/", false)).stderr).toBe("");
  });
});
