/**
 * Replicates the local Python environment: `pip freeze`, `poetry export`, a custom command, or
 * the export of a pyproject.toml (`pyproject_export_command`, else `uv export`, else
 * `poetry export`). Commands run in a shell, as ZenML runs them, from the folder relative
 * settings start at, with a timeout and a cap on their output. `pip freeze` asks the
 * interpreter's own pip: Python puts the working directory first on its module path, so it runs
 * in an empty folder of its own, and with `-E`, so that PYTHONPATH cannot point at a `pip`
 * planted elsewhere either (`-E` rather than `-I`: packages installed with `--user` stay in).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { codes, error, shellJoin, type Compiler, type LocalEnvironmentRequest, type LocalEnvironmentResult, type Plugin } from "@dockwright/core";

export type LocalEnvOptions = {
  /** The interpreter whose environment `pip_freeze` replicates (default `python3`, found on PATH). */
  python?: string;
  /** How long one command may run, in milliseconds (default 120 000). */
  timeout?: number;
  /** The most a command may print, in bytes (default 4 MiB, what the requirements resolver reads); it is ended beyond that. */
  maxOutput?: number;
};

const name = "LocalEnvPlugin";

export function localEnv(options: LocalEnvOptions = {}): Plugin {
  const settings = { python: options.python ?? "python3", timeout: options.timeout ?? 120_000, maxOutput: options.maxOutput ?? 4 * 2 ** 20 };
  return {
    name,
    core: "^0.1.0",
    apply(compiler: Compiler): void {
      compiler.hooks.localEnvironment.tapPromise(name, (request) => replicate(request, settings));
    },
  };
}

type Settings = { python: string; timeout: number; maxOutput: number };

async function replicate(request: LocalEnvironmentRequest, settings: Settings): Promise<LocalEnvironmentResult> {
  const fail = (message: string): LocalEnvironmentResult => ({ diagnostics: [error(codes.LOCAL_ENVIRONMENT_FAILED, request.path, message)] });
  if (!(await isDirectory(request.cwd))) return fail(`${JSON.stringify(request.cwd)} is not a directory, so no command can run there.`);

  if (request.kind === "replicate") {
    const run = request.method === "pip_freeze"
      ? await inEmptyFolder((folder) => runCommand([settings.python, "-E", "-m", "pip", "freeze"], folder, settings))
      : await runCommand(["/bin/sh", "-c", request.command], request.cwd, settings);
    return "stdout" in run ? { requirements: run.stdout } : fail(`${run.problem}. Fix the command, or remove \`replicate_local_python_environment\`.`);
  }

  // As ZenML: the given command, else uv, else poetry, whichever works first.
  const problems: string[] = [];
  for (const command of request.commands) {
    const run = await runCommand(["/bin/sh", "-c", command], request.cwd, settings);
    if ("stdout" in run) return { requirements: run.stdout };
    problems.push(run.problem);
  }
  return fail(`the requirements of ${JSON.stringify(request.pyproject)} could not be exported: ${problems.join("; ")}. Install uv or poetry, or set \`pyproject_export_command\` to a command that prints the requirements.`);
}

type Run = { stdout: string } | { problem: string };

/** Lines of a command's error output named in a failure. */
const stderrLines = 5;

/** Runs `run` in a new empty folder, removed afterwards. */
async function inEmptyFolder<T>(run: (folder: string) => Promise<T>): Promise<T> {
  const folder = await mkdtemp(join(tmpdir(), "dockwright-pip-freeze-"));
  try {
    return await run(folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** What the error output keeps: enough for its last lines. */
const stderrBytes = 64 * 1024;

/**
 * Runs a command (a shell only when it is one) in its own process group, so a timeout, or output
 * beyond the cap, ends whatever it started too (poetry and uv start helpers that would otherwise
 * keep the pipes open).
 */
function runCommand(command: readonly string[], cwd: string, { timeout, maxOutput }: Settings): Promise<Run> {
  const [file = "", ...args] = command;
  const shown = `\`${command[0] === "/bin/sh" ? command[2] : shellJoin(command)}\``;
  return new Promise((done) => {
    const child = spawn(file, args, { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = Buffer.alloc(0);
    let stopped = false;
    const stop = (problem: string) => {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      killGroup(child.pid);
      done({ problem });
    };
    child.stdout.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxOutput) return stop(`${shown} printed more than the ${maxOutput} bytes of requirements Dockwright reads, so it was ended`);
      stdout.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > 2 * stderrBytes) stderr = stderr.subarray(stderr.length - stderrBytes);
    });
    const timer = setTimeout(() => stop(`${shown} did not finish within ${timeout / 1000} s`), timeout);
    child.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      done({ problem: e.code === "ENOENT" ? `${JSON.stringify(file)} was not found (is it installed and on PATH?)` : `${shown} could not start: ${e.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return done({ stdout: Buffer.concat(stdout).toString("utf8") });
      const tail = stderr.toString("utf8").split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "").slice(-stderrLines);
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

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

