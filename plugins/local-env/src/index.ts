/**
 * Replicates the local Python environment: `pip freeze`, `poetry export`, a custom command, or
 * the export of a pyproject.toml (`pyproject_export_command`, else `uv export`, else
 * `poetry export`). Commands run without a shell, in the source root, with a timeout.
 */
import { spawn } from "node:child_process";
import { realpath, stat } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { codes, error, shellJoin, type Compiler, type LocalEnvironmentRequest, type LocalEnvironmentResult, type Plugin } from "@dockwright/core";

export type LocalEnvOptions = {
  /** The interpreter whose environment `pip_freeze` replicates (default `python3`, found on PATH). */
  python?: string;
  /** How long one command may run, in milliseconds (default 120 000). */
  timeout?: number;
};

const name = "LocalEnvPlugin";

export function localEnv(options: LocalEnvOptions = {}): Plugin {
  const settings = { python: options.python ?? "python3", timeout: options.timeout ?? 120_000 };
  return {
    name,
    core: "^0.1.0",
    apply(compiler: Compiler): void {
      compiler.hooks.localEnvironment.tapPromise(name, (request) => replicate(request, settings));
    },
  };
}

type Settings = { python: string; timeout: number };

async function replicate(request: LocalEnvironmentRequest, settings: Settings): Promise<LocalEnvironmentResult> {
  const fail = (message: string): LocalEnvironmentResult => ({ diagnostics: [error(codes.LOCAL_ENVIRONMENT_FAILED, request.path, message)] });
  if (!(await isDirectory(request.root))) return fail(`the source root ${JSON.stringify(request.root)} is not a directory, so no command can run there.`);

  if (request.kind === "replicate") {
    const { method } = request;
    const command = method === "pip_freeze" ? [settings.python, "-m", "pip", "freeze"] : method === "poetry_export" ? ["poetry", "export", "--format=requirements.txt"] : method;
    const run = await runCommand(command, request.root, settings.timeout);
    return "stdout" in run ? { requirements: run.stdout } : fail(`${run.problem}. Fix the command, or remove \`replicate_local_python_environment\`.`);
  }

  // The pyproject must lie inside the source root, as written and with links resolved: the
  // export reads the project beside it.
  const outside = () => ({ diagnostics: [error(codes.INVALID_PATH, request.path, `${JSON.stringify(request.pyproject)} is outside the source root ${JSON.stringify(request.root)}. Use a pyproject.toml inside it.`)] });
  const written = resolve(request.root, request.pyproject);
  if (!isInside(request.root, written)) return outside();
  const pyproject = await realpath(written).catch(() => undefined);
  if (pyproject === undefined) {
    return { diagnostics: [error(codes.FILE_NOT_FOUND, request.path, `${JSON.stringify(request.pyproject)} does not exist in the source root ${JSON.stringify(request.root)}. Fix the path (it is relative to the source root).`)] };
  }
  if (!isInside(await realpath(request.root), pyproject)) return outside();
  const directory = dirname(pyproject);
  // As the reference system: the given command, else uv, else poetry, whichever works first.
  const commands = request.command
    ? [request.command.map((arg) => arg.replaceAll("{directory}", directory))]
    : [
        ["uv", "export", "--format=requirements-txt", "--directory", directory],
        ["poetry", "export", "--format=requirements.txt", "--directory", directory],
      ];
  const problems: string[] = [];
  for (const command of commands) {
    const run = await runCommand(command, request.root, settings.timeout);
    if ("stdout" in run) return { requirements: run.stdout };
    problems.push(run.problem);
  }
  const fix = request.command ? "Fix `pyproject_export_command`" : "Install uv or poetry, or set `pyproject_export_command` to a command that prints the requirements";
  return fail(`the requirements of ${JSON.stringify(request.pyproject)} could not be exported: ${problems.join("; ")}. ${fix}.`);
}

type Run = { stdout: string } | { problem: string };

/** Lines of a command's error output named in a failure. */
const stderrLines = 5;

/**
 * Runs a command without a shell. It gets its own process group, so a timeout ends whatever
 * it started too (poetry and uv start helpers that would otherwise keep the pipes open).
 */
function runCommand(command: readonly string[], cwd: string, timeout: number): Promise<Run> {
  const [file = "", ...args] = command;
  const shown = `\`${shellJoin(command)}\``;
  return new Promise((done) => {
    const child = spawn(file, args, { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => {
      killGroup(child.pid);
      done({ problem: `${shown} did not finish within ${timeout / 1000} s` });
    }, timeout);
    child.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      done({ problem: e.code === "ENOENT" ? `${JSON.stringify(file)} was not found (is it installed and on PATH?)` : `${shown} could not start: ${e.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return done({ stdout: Buffer.concat(stdout).toString("utf8") });
      const tail = Buffer.concat(stderr).toString("utf8").split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "").slice(-stderrLines);
      const status = code === null ? `was ended by ${signal}` : `exited with code ${code}`;
      done({ problem: `${shown} ${status}${tail.length > 0 ? `, its error output ending in: ${tail.join(" | ")}` : " and printed no error output"}` });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function isInside(root: string, path: string): boolean {
  const inside = relative(root, path);
  return inside !== ".." && !inside.startsWith(`..${sep}`) && !isAbsolute(inside);
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

