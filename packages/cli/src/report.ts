/**
 * What `compile`, `build` and `explain` tell their caller: lines for people (results on standard
 * output, diagnostics on standard error), or with `--json` one JSON object per line on standard
 * output for the tools that drive the CLI. The events are documented in the README; nothing else
 * reaches standard output in that mode.
 */
import { formatDiagnostic, type Diagnostic } from "@dockwright/core";
import { printable } from "@dockwright/core/diagnostics";
import { printableLines } from "./args.js";
import { exitCodes, type Io } from "./io.js";

/** One event of the `--json` stream. */
export type Event =
  | ({ event: "diagnostic" } & Diagnostic)
  | ({ event: "image"; action: "written" | "built" | "reused" | "skipped" | "tagged" | "failed" } & Record<string, unknown>)
  | ({ event: "explain" } & Record<string, unknown>)
  | { event: "warning"; message: string }
  | { event: "error"; message: string }
  | ({ event: "summary"; command: string; ok: boolean; exitCode: number } & Record<string, unknown>);

export type Reporter = {
  readonly json: boolean;
  diagnostics(list: readonly Diagnostic[]): void;
  /** A result: `line` for people, `event` (if any) for tools. */
  result(line: string, event?: Event): void;
  /** Something the caller should know that is no settings problem and stops nothing (one line). */
  warn(message: string): void;
  /** Invalid input (exit code 2), or another failure with its exit code. */
  fail(message: string, code?: number): number;
  /** The final event; returns the exit code. */
  done(code: number, summary?: Record<string, unknown>): number;
};

export function reporter(io: Io, command: string, json: boolean): Reporter {
  const emit = (event: Event) => io.stdout(`${JSON.stringify(event)}\n`);
  return {
    json,
    diagnostics(list) {
      if (json) for (const d of list) emit({ event: "diagnostic", ...d });
      else for (const d of sayOnce(list)) io.stderr(`${formatDiagnostic(d)}\n`);
    },
    result(line, event) {
      if (json && event) emit(event);
      else if (!json && line) io.stdout(printableLines(line));
    },
    warn(message) {
      json ? emit({ event: "warning", message }) : io.stderr(`dockwright: warning: ${printable(message)}\n`);
    },
    fail(message, code = exitCodes.invalidInput) {
      json ? emit({ event: "error", message }) : io.stderr(`dockwright: ${printableLines(message)}\n`);
      return this.done(code);
    },
    done(code, summary = {}) {
      if (json) emit({ event: "summary", command, ok: code === exitCodes.ok, exitCode: code, ...summary });
      return code;
    },
  };
}

/**
 * For people, a diagnostic that several settings share (the same parent in every image) is one
 * line naming them all, in the order they came; tools get one event per setting.
 */
function sayOnce(list: readonly Diagnostic[]): Diagnostic[] {
  const lines = new Map<string, { first: Diagnostic; paths: Set<string> }>();
  for (const d of list) {
    const key = JSON.stringify([d.severity, d.code, d.message]);
    const line = lines.get(key) ?? lines.set(key, { first: d, paths: new Set() }).get(key)!;
    if (d.path) line.paths.add(d.path);
  }
  return [...lines.values()].map(({ first, paths }) => ({ ...first, path: [...paths].join(", ") }));
}
