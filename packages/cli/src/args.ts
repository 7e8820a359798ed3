/** Flag parsing shared by the commands: Node's parseArgs, with usage errors as exit code 2. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { printable } from "@dockwright/core/diagnostics";
import { exitCodes, type Io } from "./io.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export type Parsed<O extends Options> = { values: { [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string }; positionals: string[] };

/**
 * Parses flags; prints help or a usage error and returns an exit code instead when it should stop.
 * `usageError` reports the error instead (the `--json` event stream).
 */
export function parseFlags<O extends Options>(
  args: string[],
  options: O,
  help: string,
  io: Io,
  usageError?: (message: string) => number,
): Parsed<O> | number {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (e) {
    if (usageError) return usageError((e as Error).message);
    io.stderr(`dockwright: ${(e as Error).message}\n\n${help}`);
    return exitCodes.invalidInput;
  }
  if ((parsed.values as Record<string, unknown>)["help"]) {
    io.stdout(help);
    return exitCodes.ok;
  }
  return parsed as unknown as Parsed<O>;
}

/** One paragraph on standard error, exit code 2. */
export function invalidInput(io: Io, message: string): number {
  io.stderr(`dockwright: ${printableLines(message)}\n`);
  return exitCodes.invalidInput;
}

/**
 * Messages and results quote paths, tags and values: each line is escaped so that nothing in it
 * can forge another line or drive the terminal; the text's own line breaks stay.
 */
export function printableLines(text: string): string {
  return text.split("\n").map(printable).join("\n");
}
