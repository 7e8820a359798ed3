/**
 * Running a build tool, the one way every builder does: its output to the image's log (standard
 * error), optionally its standard output kept too, its exit code back. An abort (another image
 * failed) stops it with SIGTERM.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { exitCodes } from "../io.js";

export type ToolRun = {
  env: Record<string, string | undefined>;
  cwd: string;
  /** Where the tool's output goes, as it comes. */
  log: (text: string) => void;
  signal?: AbortSignal;
  /** Written to the tool's standard input, which is closed after it. */
  stdin?: Uint8Array;
  /** Keep the whole standard output for the result (a build's can be large: by default it only goes to `log`). */
  keepStdout?: boolean;
};

export type ToolResult = {
  code: number;
  /** With `keepStdout`; else empty. */
  stdout: string;
  /** Why the tool did not start (`ENOENT`: not installed), when it did not. */
  startError?: string;
};

/** A tool that exited with another code than 0 (`exitCode`), or did not start at all (`started` false). */
export class ToolFailed extends Error {
  override readonly name = "ToolFailed";
  readonly exitCode: number;
  readonly started: boolean;
  constructor(message: string, exitCode: number, started = true) {
    super(message);
    this.exitCode = exitCode;
    this.started = started;
  }
}

export function runTool(command: string, args: readonly string[], options: ToolRun): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["pipe", "pipe", "pipe"], ...(options.signal ? { signal: options.signal, killSignal: "SIGTERM" } : {}) });
    let stdout = "";
    child.stdout.setEncoding("utf8"); // never splits a character between chunks
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (text: string) => {
      if (options.keepStdout) stdout += text;
      options.log(text);
    });
    child.stderr.on("data", (text: string) => options.log(text));
    child.on("error", (e: NodeJS.ErrnoException) => {
      // An abort also lands here; the close event still gives the code.
      if (e.name !== "AbortError") resolve({ code: 1, stdout, startError: e.code ?? e.message });
    });
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout }));
    // A tool may exit before reading all of its input; its exit code tells why.
    child.stdin.on("error", () => {});
    child.stdin.end(options.stdin);
  });
}

/** Runs a tool that must succeed; its standard output (with `keepStdout`). A failure throws `ToolFailed`: "LABEL failed to WHAT (exit code N)". */
export async function mustRun(command: string, args: readonly string[], options: ToolRun, what: string, label: string = path.basename(command)): Promise<string> {
  const { code, stdout, startError } = await runTool(command, args, options);
  if (startError !== undefined) throw new ToolFailed(`cannot run ${JSON.stringify(command)} (${startError}) to ${what}: is it installed?`, exitCodes.invalidInput, false);
  if (code !== 0) throw new ToolFailed(`${label} failed to ${what} (exit code ${code}); its output is above.`, code);
  return stdout;
}

/** Why `bin` cannot be started at all (with how to install `tool`), or undefined when it can. */
export async function notInstalled(tool: string, bin: string, env: ToolRun["env"], install: string): Promise<string | undefined> {
  const started = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const child = spawn(bin, ["--version"], { env, stdio: "ignore" });
    child.on("error", resolve);
    child.on("spawn", () => resolve(undefined));
  });
  if (!started) return undefined;
  return `cannot run ${JSON.stringify(bin)} (${started.code}): is ${tool} installed? Install it (${install}), or name the command with --${tool} BIN.`;
}
