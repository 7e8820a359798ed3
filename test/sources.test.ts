/**
 * Where the pipeline's code comes from, end to end: every source-files mode of both settings
 * generations against real repositories (clean, dirty, untracked files only, unpushed, detached)
 * and no repository, compiled through the CLI's pipeline (git plugin, node host) and printed by
 * every backend.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { devNull, tmpdir } from "node:os";
import path from "node:path";
import type { Diagnostic } from "@dockwright/core";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { backendNames } from "../packages/cli/src/backends.ts";
import { writePlan } from "../packages/cli/src/output.ts";
import { compileConfig } from "../packages/cli/src/pipeline.ts";
import { lacks, toolPath } from "./support/tools.ts";

vi.stubEnv("GIT_CONFIG_GLOBAL", devNull);
vi.stubEnv("GIT_CONFIG_NOSYSTEM", "1");
const scratch = realpathSync(mkdtempSync(path.join(tmpdir(), "dockwright-sources-")));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const identity = { GIT_AUTHOR_NAME: "Test", GIT_AUTHOR_EMAIL: "test@example.com", GIT_COMMITTER_NAME: "Test", GIT_COMMITTER_EMAIL: "test@example.com" };
const git = (cwd: string, ...args: string[]) =>
  execFileSync(toolPath("git")!, args, { cwd, env: { ...process.env, ...identity }, stdio: ["ignore", "pipe", "pipe"] }).toString().trim();

function write(file: string, contents: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, contents);
}

const states = ["clean", "dirty", "untracked", "unpushed", "detached", "none"] as const;
type State = (typeof states)[number];

/** What each state does to a clean working tree that has pushed its one commit. */
const changes: Record<Exclude<State, "none">, (work: string) => void> = {
  clean: () => {},
  dirty: (work) => write(path.join(work, "app/run.py"), "print('changed')\n"),
  untracked: (work) => write(path.join(work, "app/new.py"), ""),
  unpushed: (work) => (write(path.join(work, "notes.md"), ""), git(work, "add", "notes.md"), git(work, "commit", "--quiet", "-m", "second")),
  detached: (work) => git(work, "checkout", "--quiet", "--detach"),
};

type Repository = { root: string; remote: string; work: string };

/** A working tree (source root `app/`) with a bare remote `origin`, in the given state. */
function repository(state: State): Repository {
  const dir = mkdtempSync(path.join(scratch, `${state}-`));
  const work = path.join(dir, "work");
  const remote = path.join(dir, "remote.git");
  write(path.join(work, "app/run.py"), "print('run')\n");
  write(path.join(work, "app/.gitignore"), "*.log\n");
  if (state === "none") return { root: path.join(work, "app"), remote: "", work };
  git(dir, "init", "--quiet", "--bare", "-b", "main", remote);
  git(work, "init", "--quiet", "-b", "main");
  git(work, "add", "-A");
  git(work, "commit", "--quiet", "-m", "first");
  git(work, "remote", "add", "origin", remote);
  git(work, "push", "--quiet", "-u", "origin", "main");
  changes[state](work);
  return { root: path.join(work, "app"), remote, work };
}

let compiles = 0;
async function compile(root: string, release: string, docker: Record<string, unknown>, registered = true, out = path.join(scratch, `out-${compiles++}`)) {
  const config = path.join(scratch, `run-${compiles}.json`);
  writeFileSync(config, JSON.stringify({
    ...(registered ? { code_repository: { type: "github" } } : {}),
    settings: { docker: { parent_image: "python:3.11-slim", ...docker } },
  }));
  const result = await compileConfig({ configPath: config, root, out, pipeline: "p", zenmlVersion: release });
  if ("message" in result) throw new Error(result.message);
  const errors = result.diagnostics.filter((d: Diagnostic) => d.severity === "error");
  if (!result.plan) return { errors, out };
  await writePlan(result.compiler, result.plan, out, { backends: backendNames, mode: "buildkit" });
  const image = result.plan.images[0]!;
  const read = (file: string) => readFileSync(path.join(out, image.key, file), "utf8");
  return { errors, out, plan: result.plan, image, dockerfile: read("Dockerfile"), buildah: read("build.sh"), llb: read("llb.json") };
}

type Outcome = "repository" | "artifact" | "include" | "ignore" | "error";

/**
 * Each row: the release, the settings, then the outcome for clean, dirty, untracked, unpushed,
 * detached, none. `source_files` is the generation before 0.64, the `allow_*` flags after.
 */
const matrix: [string, string, Record<string, unknown>, Outcome[]][] = [
  ["source_files: include", "0.63", { source_files: "include" }, ["include", "include", "include", "include", "include", "include"]],
  ["source_files: download", "0.63", { source_files: "download" }, ["repository", "error", "error", "error", "error", "error"]],
  ["source_files: download_or_include", "0.63", { source_files: "download_or_include" }, ["repository", "include", "include", "include", "include", "include"]],
  ["source_files: ignore", "0.63", { source_files: "ignore" }, ["ignore", "ignore", "ignore", "ignore", "ignore", "ignore"]],
  ["allow_* defaults (all true)", "0.93", {}, ["repository", "artifact", "artifact", "artifact", "artifact", "artifact"]],
  ["allow including only", "0.93", flags(true, false, false), ["include", "include", "include", "include", "include", "include"]],
  ["allow code repository only", "0.93", flags(false, true, false), ["repository", "error", "error", "error", "error", "error"]],
  ["allow downloads only", "0.93", flags(false, true, true), ["repository", "artifact", "artifact", "artifact", "artifact", "artifact"]],
  ["allow code repository or including", "0.93", flags(true, true, false), ["repository", "include", "include", "include", "include", "include"]],
  ["allow artifact store only", "0.93", flags(false, false, true), ["artifact", "artifact", "artifact", "artifact", "artifact", "artifact"]],
  ["allow nothing", "0.93", flags(false, false, false), ["ignore", "ignore", "ignore", "ignore", "ignore", "ignore"]],
];

function flags(include: boolean, repository: boolean, artifactStore: boolean): Record<string, boolean> {
  return {
    allow_including_files_in_images: include,
    allow_download_from_code_repository: repository,
    allow_download_from_artifact_store: artifactStore,
  };
}

/** Why each state's code cannot be downloaded from the repository. */
const reasons: Record<State, string> = {
  clean: "",
  dirty: "the code repository cannot be downloaded as it is: uncommitted changes in app/run.py",
  untracked: "the code repository cannot be downloaded as it is: untracked files: app/new.py",
  unpushed: "the code repository cannot be downloaded as it is: 1 unpushed commit on main",
  detached: "the code repository cannot be downloaded as it is: HEAD is detached (check out a branch)",
  none: "no registered code repository holds the source root",
};

const noGit = lacks("git");
const repositories = {} as Record<State, Repository>;
beforeAll(() => {
  if (noGit) return;
  for (const state of states) repositories[state] = repository(state);
});

describe.skipIf(noGit).each(matrix)("%s (%s)", (_, release, docker, outcomes) => {
  test.each(states.map((state, i) => [state, outcomes[i]!] as const))("%s repository: %s", async (state, outcome) => {
    const { root, remote, work } = repositories[state];
    const compiled = await compile(root, release, docker);
    if (outcome === "error") {
      expect(compiled.errors).toEqual([
        expect.objectContaining({
          code: "CODE_DOWNLOAD_UNAVAILABLE",
          path: "settings.docker.allow_download_from_code_repository",
          message: `the settings say the code is downloaded from a code repository, but ${reasons[state]}. ` +
            "Register the repository (`code_repository: {type: github}` in the run configuration), commit and push, or allow including the files in the image.",
        }),
      ]);
      return;
    }
    expect(compiled.errors).toEqual([]);
    const { plan, image, dockerfile, buildah, llb } = compiled as Required<typeof compiled>;
    const mode = { repository: "code-repository", artifact: "artifact-store", include: "include", ignore: "ignore" }[outcome];
    expect(image.sources.mode).toBe(mode);
    expect(plan.code.repository).toEqual(outcome === "repository" ? { type: "github", url: remote, commit: git(work, "rev-parse", "HEAD"), subdirectory: "app" } : undefined);
    if (outcome === "artifact") {
      expect(plan.code.archive?.path).toMatch(/^code-[0-9a-f]{16}\.tar\.gz$/);
      expect(existsSync(path.join(compiled.out, plan.code.archive!.path))).toBe(true);
    } else {
      expect(plan.code.archive).toBeUndefined();
    }
    // Only `include` copies the sources, in every backend.
    const copies = outcome === "include";
    expect(/^COPY (--chown=\S+ )?\. \.$/m.test(dockerfile)).toBe(copies);
    expect(buildah.includes('"$CONTEXT" .')).toBe(copies);
    expect(llb.includes("local://context")).toBe(copies);
    // Before 0.65 an image that downloads its code says so in its environment.
    const downloads = outcome === "repository" || outcome === "artifact";
    expect(dockerfile.includes("ZENML_REQUIRES_CODE_DOWNLOAD=\"True\"")).toBe(release === "0.63" && downloads);
  });
});

test.skipIf(noGit)("a clean checkout that no code repository registration names is not downloaded from", async () => {
  const compiled = await compile(repositories.clean.root, "0.93", {}, false);
  expect(compiled.errors).toEqual([]);
  expect(compiled.image?.sources.mode).toBe("artifact-store");
  expect(compiled.plan?.code.repository).toBeUndefined();
});

test.skipIf(noGit)("a registered repository that does not hold the source root is a warning, and the code comes from elsewhere", async () => {
  const config = path.join(scratch, "outside.json");
  writeFileSync(config, JSON.stringify({ code_repository: { type: "github" }, settings: { docker: { parent_image: "python:3.11-slim" } } }));
  const result = await compileConfig({ configPath: config, root: repositories.none.root, out: path.join(scratch, "outside-out"), pipeline: "p" });
  if ("message" in result) throw new Error(result.message);
  expect(result.diagnostics).toContainEqual(expect.objectContaining({ code: "CODE_DOWNLOAD_UNAVAILABLE", severity: "warning", path: "code_repository" }));
  expect(result.plan?.images[0]?.sources.mode).toBe("artifact-store");
});

describe.skipIf(noGit)("downloaded code and the image checksum", () => {
  test("a new commit changes the plan's commit, not the image", async () => {
    const { root, work } = repository("clean");
    const before = await compile(root, "0.93", {});
    write(path.join(work, "app/run.py"), "print('v2')\n");
    git(work, "commit", "--quiet", "-am", "v2");
    git(work, "push", "--quiet");
    const after = await compile(root, "0.93", {});
    expect(after.image?.sources.mode).toBe("code-repository");
    expect(after.plan?.code.repository?.commit).toBe(git(work, "rev-parse", "HEAD"));
    expect(after.plan?.code.repository?.commit).not.toBe(before.plan?.code.repository?.commit);
    expect(after.image?.checksum).toBe(before.image?.checksum);
  });

  test("a changed file changes the archive, not the image", async () => {
    const { root } = repository("none");
    const before = await compile(root, "0.93", {}, false);
    write(path.join(root, "run.py"), "print('v2')\n");
    const after = await compile(root, "0.93", {}, false);
    expect(after.image?.sources.mode).toBe("artifact-store");
    expect(after.plan?.code.archive?.sha256).not.toBe(before.plan?.code.archive?.sha256);
    expect(after.image?.checksum).toBe(before.image?.checksum);
  });

  test("an output folder inside the repository neither dirties it nor enters the archive", async () => {
    const { root } = repository("clean");
    const out = path.join(root, "dockwright-out");
    await compile(root, "0.93", flags(false, false, true), true, out); // writes an archive into the repository
    expect((await compile(root, "0.93", {}, true, out)).image?.sources.mode).toBe("code-repository");
    const first = await compile(root, "0.93", flags(false, false, true), true, out);
    const second = await compile(root, "0.93", flags(false, false, true), true, out);
    expect(second.plan?.code.archive).toEqual(first.plan?.code.archive);
  });
});
