/** The git plugin against real repositories, each with a local bare remote. */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { devNull, tmpdir } from "node:os";
import path from "node:path";
import { Compiler, type RepositoryState } from "@dockwright/core";
import { afterAll, describe, expect, test, vi } from "vitest";
import { lacks, toolPath } from "../../../test/support/tools.ts";
import { git, type GitOptions } from "./index.js";

// Neither the machine's git configuration nor a surrounding repository may change the answers.
vi.stubEnv("GIT_CONFIG_GLOBAL", devNull);
vi.stubEnv("GIT_CONFIG_NOSYSTEM", "1");
const scratch = realpathSync(mkdtempSync(path.join(tmpdir(), "dockwright-git-")));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const identity = { GIT_AUTHOR_NAME: "Test", GIT_AUTHOR_EMAIL: "test@example.com", GIT_COMMITTER_NAME: "Test", GIT_COMMITTER_EMAIL: "test@example.com" };
function run(cwd: string, ...args: string[]): string {
  return execFileSync(toolPath("git")!, args, { cwd, env: { ...process.env, ...identity }, stdio: ["ignore", "pipe", "pipe"] }).toString().trim();
}

function write(root: string, file: string, contents: string): void {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), contents);
}

let count = 0;
/** A working tree with one commit pushed to a bare remote `origin`; the source root is `app/`. */
function repository(options: { push?: boolean; remote?: boolean } = {}): { work: string; remote: string; root: string } {
  const dir = path.join(scratch, String(count++));
  const remote = path.join(dir, "remote.git");
  const work = path.join(dir, "work");
  mkdirSync(dir);
  run(dir, "init", "--quiet", "--bare", "-b", "main", remote);
  run(dir, "init", "--quiet", "-b", "main", work);
  write(work, "app/run.py", "print('run')\n");
  write(work, "README.md", "# project\n");
  run(work, "add", "-A");
  run(work, "commit", "--quiet", "-m", "first");
  if (options.remote !== false) run(work, "remote", "add", "origin", remote);
  if (options.push !== false && options.remote !== false) run(work, "push", "--quiet", "-u", "origin", "main");
  return { work, remote, root: path.join(work, "app") };
}

function state(root: string, options: GitOptions = {}): Promise<RepositoryState | undefined> {
  return new Compiler([git(options)]).hooks.codeRepository.promise({ root, type: "github" });
}

describe.skipIf(lacks("git"))("the repository holding the source root", () => {
  test("clean and pushed: remote URL, HEAD commit, subdirectory, no problems", async () => {
    const { work, remote, root } = repository();
    expect(await state(root)).toEqual({ url: remote, commit: run(work, "rev-parse", "HEAD"), subdirectory: "app", dirty: false, unpushed: false, problems: [] });
    expect((await state(work))?.subdirectory).toBe("");
  });

  test("no repository: undefined", async () => {
    const dir = path.join(scratch, "plain");
    mkdirSync(dir);
    expect(await state(dir)).toBeUndefined();
  });

  test.each([
    ["dirty", (work: string) => write(work, "app/run.py", "print('changed')\n"), ["uncommitted changes in app/run.py"]],
    ["staged", (work: string) => (write(work, "README.md", "x"), run(work, "add", "README.md")), ["uncommitted changes in README.md"]],
    ["untracked only", (work: string) => write(work, "app/new.py", ""), ["untracked files: app/new.py"]],
    ["many untracked", (work: string) => ["a", "b", "c", "d", "e"].forEach((f) => write(work, f, "")), ["untracked files: a, b, c and 2 more"]],
    ["unpushed", (work: string) => (write(work, "b.py", ""), run(work, "add", "b.py"), run(work, "commit", "--quiet", "-m", "second")), ["1 unpushed commit on main"]],
    ["detached", (work: string) => run(work, "checkout", "--quiet", "--detach"), ["HEAD is detached (check out a branch)"]],
  ])("%s", async (_, change, problems) => {
    const { work, root } = repository();
    change(work);
    expect((await state(root))?.problems).toEqual(problems);
  });

  test("untracked files count unless ignoreUntracked; .gitignore'd files never count", async () => {
    const { work, root } = repository();
    write(work, "notes.txt", "");
    write(work, ".git/info/exclude", "*.log\n");
    write(work, "debug.log", "");
    expect((await state(root))?.problems).toEqual(["untracked files: notes.txt"]);
    expect((await state(root, { ignoreUntracked: true }))?.problems).toEqual([]);
  });

  test("changes under an excluded path (the output folder) do not count", async () => {
    const { work, root } = repository();
    write(work, "app/dockwright-out/plan.json", "{}");
    expect((await state(root, { exclude: [path.join(root, "dockwright-out")] }))?.problems).toEqual([]);
  });

  test("a branch never pushed, and no remote at all", async () => {
    expect((await state(repository({ push: false }).root))?.problems).toEqual(["the branch main has no upstream (push it with `git push -u`)"]);
    const lonely = await state(repository({ remote: false }).root);
    expect(lonely?.url).toBe("");
    expect(lonely?.problems).toEqual([
      "the branch main has no upstream (push it with `git push -u`)",
      "no remote origin (add one with `git remote add origin URL`)",
    ]);
  });

  test("behind its upstream only: HEAD is on the remote, so it can be downloaded", async () => {
    const { work, remote, root } = repository();
    const other = path.join(path.dirname(work), "other");
    run(path.dirname(work), "clone", "--quiet", remote, other);
    write(other, "c.py", "");
    run(other, "add", "c.py");
    run(other, "commit", "--quiet", "-m", "elsewhere");
    run(other, "push", "--quiet");
    run(work, "fetch", "--quiet");
    expect((await state(root))?.problems).toEqual([]);
  });

  test("the URL is the upstream's remote, without credentials", async () => {
    const { work, remote, root } = repository({ remote: false });
    run(work, "remote", "add", "upstream", remote);
    run(work, "push", "--quiet", "-u", "upstream", "main");
    run(work, "remote", "add", "origin", "https://ci:s3cret@example.com/acme/other.git");
    expect((await state(root))?.url).toBe(remote);
    run(work, "branch", "--quiet", "--set-upstream-to=upstream/main");
    run(work, "remote", "set-url", "upstream", "https://x-access-token:ghs_abc@github.com/acme/ml.git");
    expect((await state(root))?.url).toBe("https://github.com/acme/ml.git");
    run(work, "remote", "set-url", "upstream", "ssh://git@github.com/acme/ml.git");
    expect((await state(root))?.url).toBe("ssh://git@github.com/acme/ml.git");
  });

  test("GIT_DIR and friends of a surrounding git process are ignored", async () => {
    const { root } = repository();
    const other = repository({ push: false });
    vi.stubEnv("GIT_DIR", path.join(other.work, ".git"));
    vi.stubEnv("GIT_WORK_TREE", other.work);
    try {
      expect((await state(root))?.problems).toEqual([]);
    } finally {
      vi.unstubAllEnvs();
      vi.stubEnv("GIT_CONFIG_GLOBAL", devNull);
      vi.stubEnv("GIT_CONFIG_NOSYSTEM", "1");
    }
  });
});

test("git missing: a problem that says so, so download falls back or fails clearly", async () => {
  const root = path.join(scratch, "without-git");
  mkdirSync(root);
  expect(await state(root, { command: "/nonexistent/git" })).toEqual({
    url: "", commit: "", subdirectory: "", dirty: false, unpushed: true, problems: ['git is not installed ("/nonexistent/git" was not found on PATH)'],
  });
});

describe.skipIf(lacks("git"))("a registered code repository", () => {
  test("a registered URL must name the checkout's remote", async () => {
    const { work } = repository();
    run(work, "remote", "set-url", "origin", "git@github.com:acme/ml.git");
    const shared = path.join(work, "app");
    expect((await new Compiler([git()]).hooks.codeRepository.promise({ root: shared, type: "github", url: "https://github.com/acme/ml" }))?.url).toBe("git@github.com:acme/ml.git");
    expect(await new Compiler([git()]).hooks.codeRepository.promise({ root: shared, type: "github", url: "https://github.com/acme/other" })).toBeUndefined();
  });
});
