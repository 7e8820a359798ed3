/** Running the real tools of the end-to-end tests. */
import { spawn } from "node:child_process";

export type Env = Record<string, string | undefined>;
export type Result = { code: number; stdout: string; stderr: string };
export type RunOptions = { env?: Env; cwd?: string; input?: Buffer | string };

/** Runs a command to its end; never throws for a failing command. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<Result> {
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
