/** Running the real tools of the end-to-end tests. */
import { spawn } from "node:child_process";

export type Env = Record<string, string | undefined>;
export type Result = { code: number; stdout: string; stderr: string };
export type RunOptions = { env?: Env; cwd?: string; input?: Buffer | string };

/**
 * Buildah's chroot isolation re-executes Buildah from a sealed in-memory copy of its binary. On a
 * loaded machine the kernel can refuse that seal for a moment (EBUSY, seen once in CI on Debian's
 * Buildah 1.28). It is the machine's, not the build's: such a run is tried again.
 */
const transientFailure = /sealing memfd copy: Device or resource busy/;

/** Runs `attempt` again, at most twice, while it fails with the transient failure above. */
export async function retryingTransient<T extends { code: number; stderr: string }>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    const result = await attempt();
    if (result.code === 0 || tries === 3 || !transientFailure.test(result.stderr)) return result;
    console.warn(`transient failure, trying again: ${result.stderr.match(transientFailure)![0]}`);
  }
}

/** Runs a command to its end; never throws for a failing command. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<Result> {
  return retryingTransient(() => runOnce(command, args, options));
}

function runOnce(command: string, args: readonly string[], options: RunOptions): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() }));
    child.stdin.end(options.input);
  });
}

/** Runs a command that must succeed; its standard output. */
export async function ok(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited with ${result.code}:\n${result.stderr.slice(-4000)}${result.stdout.slice(-2000)}`);
  }
  return result.stdout;
}
