/**
 * The state of the git checkout holding the source root, for the code repository a run
 * configuration registers (`code_repository: {type, url}`): its remote URL, HEAD commit, the
 * root's subdirectory, and whether it has uncommitted (or untracked) files or commits the remote
 * lacks. git runs without a shell, with a timeout, and never takes the index lock.
 */
import { execFile } from "node:child_process";
import { realpath } from "node:fs/promises";
import path from "node:path";
import type { CodeRepositoryQuery, Compiler, Plugin, RepositoryState } from "@dockwright/core";

export type GitOptions = {
  /** Untracked files do not count as changes (default false: they do, as in the reference system). */
  ignoreUntracked?: boolean;
  /** Absolute paths whose changes do not count, e.g. an output folder inside the repository. */
  exclude?: readonly string[];
  /** The git executable (default `git`, found on PATH). */
  command?: string;
  /** How long one git command may run, in milliseconds (default 10 000). */
  timeout?: number;
};

const name = "GitPlugin";

export function git(options: GitOptions = {}): Plugin {
  return {
    name,
    core: "^0.1.0",
    apply(compiler: Compiler): void {
      compiler.hooks.codeRepository.tapPromise(name, (query) => repositoryState(query, options));
    },
  };
}

/** Names shown when listing changed or untracked paths. */
const shownPaths = 3;

async function repositoryState(query: CodeRepositoryQuery, options: GitOptions): Promise<RepositoryState | undefined> {
  const git = runner(query.root, options);
  const where = await git(["rev-parse", "--show-toplevel", "--show-prefix"]);
  if (!where.ok) return where.notRepository ? undefined : unusable(where.problem);
  const [top = "", prefix = ""] = where.stdout.split("\n");

  const untracked = options.ignoreUntracked ? "no" : "normal";
  const status = await git(["status", "--porcelain=v2", "--branch", "-z", `--untracked-files=${untracked}`]);
  if (!status.ok) return unusable(status.problem);
  const { branch, commit, upstream, ahead, changed, added } = parseStatus(status.stdout);
  const excluded = await Promise.all((options.exclude ?? []).map(async (p) => path.relative(top, await realpath(p).catch(() => p)).split(path.sep).join("/")));
  const counted = (paths: string[]) => paths.filter((p) => !excluded.some((e) => p === e || p === `${e}/` || p.startsWith(`${e}/`)));
  const dirty: string[] = [];
  const unpushed: string[] = [];
  const changedPaths = counted(changed);
  const untrackedPaths = counted(added);
  if (changedPaths.length > 0) dirty.push(`uncommitted changes in ${listed(changedPaths)}`);
  if (untrackedPaths.length > 0) dirty.push(`untracked files: ${listed(untrackedPaths)}`);
  if (commit === undefined) unpushed.push("no commit yet");
  if (branch === undefined) unpushed.push("HEAD is detached (check out a branch)");
  else if (upstream === undefined) unpushed.push(`the branch ${branch} has no upstream (push it with \`git push -u\`)`);
  else if (ahead === undefined) unpushed.push(`the upstream ${upstream} of ${branch} is gone`);
  else if (ahead > 0) unpushed.push(`${ahead} unpushed ${ahead === 1 ? "commit" : "commits"} on ${branch}`);

  // The upstream's remote, else origin.
  const configured = branch === undefined ? undefined : await git(["config", "--get", `branch.${branch}.remote`]);
  const remote = configured?.ok ? configured.stdout.trim() : "origin";
  const url = await git(["remote", "get-url", remote]);
  if (!url.ok) unpushed.push(`no remote ${remote} (add one with \`git remote add ${remote} URL\`)`);
  const remoteUrl = url.ok ? withoutCredentials(url.stdout.trim()) : "";
  // A registered URL names the repository: a checkout of another one is not it.
  if (query.url !== undefined && url.ok && !sameRepository(query.url, remoteUrl)) return undefined;
  return {
    url: remoteUrl,
    commit: commit ?? "",
    subdirectory: prefix.replace(/\/$/, ""),
    dirty: dirty.length > 0,
    unpushed: unpushed.length > 0,
    problems: [...dirty, ...unpushed],
  };
}

/** A checkout git cannot describe: nothing can be downloaded from it. */
function unusable(problem: string): RepositoryState {
  return { url: "", commit: "", subdirectory: "", dirty: false, unpushed: true, problems: [problem] };
}

function listed(paths: string[]): string {
  const shown = paths.slice(0, shownPaths).join(", ");
  return paths.length > shownPaths ? `${shown} and ${paths.length - shownPaths} more` : shown;
}

/** Whether two remote URLs name one repository (`git@host:org/repo.git` = `https://host/org/repo`). */
function sameRepository(a: string, b: string): boolean {
  const key = (url: string) => url.trim().replace(/^[a-z+]+:\/\//i, "").replace(/^[^@/]*@/, "").replace(":", "/").replace(/\.git$/, "").replace(/\/+$/, "").toLowerCase();
  return key(a) === key(b);
}

type Status = { branch?: string; commit?: string; upstream?: string; ahead?: number; changed: string[]; added: string[] };

/** `git status --porcelain=v2 --branch -z`: headers, then one record per changed or untracked path. */
function parseStatus(output: string): Status {
  const status: Status = { changed: [], added: [] };
  const records = output.split("\0");
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const header = /^# branch\.(\w+) (.*)$/.exec(record);
    if (header) {
      const [, key, value = ""] = header;
      if (key === "oid" && value !== "(initial)") status.commit = value;
      if (key === "head" && value !== "(detached)") status.branch = value;
      if (key === "upstream") status.upstream = value;
      if (key === "ab") status.ahead = Number(/^\+(\d+)/.exec(value)?.[1] ?? 0);
    } else if (record.startsWith("? ")) {
      status.added.push(record.slice(2));
    } else if (/^[12u] /.test(record)) {
      // The path follows a fixed number of fields; a rename's original path is the next record.
      const fields = { "1": 8, "2": 9, u: 10 }[record[0] as "1" | "2" | "u"];
      status.changed.push(record.split(" ").slice(fields).join(" "));
      if (record[0] === "2") i++;
    }
  }
  return status;
}

/**
 * A remote URL without credentials (`https://user:token@host/...` is common in CI): the URL lands
 * in image labels and plan files. An ssh user name is no secret and stays.
 */
function withoutCredentials(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/@]*)@(.*)$/i.exec(url);
  if (!match) return url;
  const [, scheme = "", user = "", rest = ""] = match;
  return /ssh/i.test(scheme) && !user.includes(":") ? url : `${scheme}${rest}`;
}

type Run = { ok: true; stdout: string } | { ok: false; problem: string; notRepository: boolean };

/**
 * Variables that point git at another repository or index. A git hook that runs a compile sets
 * GIT_DIR, for one; here git must find the repository from the source root.
 */
const locationVariables = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX"];

function runner(root: string, options: GitOptions): (args: string[]) => Promise<Run> {
  const command = options.command ?? "git";
  const timeout = options.timeout ?? 10_000;
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: "C", GIT_OPTIONAL_LOCKS: "0", GIT_TERMINAL_PROMPT: "0" };
  for (const variable of locationVariables) delete env[variable];
  return (args) =>
    new Promise((done) => {
      execFile(command, args, { cwd: root, env, timeout, maxBuffer: 64 * 1024 * 1024, windowsHide: true }, (e, stdout, stderr) => {
        if (!e) return done({ ok: true, stdout });
        const shown = `\`git ${args[0]}\``;
        const failure = e as Error & { code?: number | string; killed?: boolean };
        const firstLine = stderr.split("\n").find((line) => line.trim() !== "")?.trim();
        const problem =
          failure.code === "ENOENT" ? `git is not installed (${JSON.stringify(command)} was not found on PATH)` :
          failure.killed ? `${shown} did not finish within ${timeout / 1000} s` :
          `${shown} failed: ${firstLine ?? `exit code ${failure.code}`}`;
        done({ ok: false, problem, notRepository: failure.code === 128 && /not a git repository/i.test(stderr) });
      });
    });
}
