/** Flag parsing shared by the commands: Node's parseArgs, with usage errors as exit code 2. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { printable } from "@dockwright/core/diagnostics";
import { exitCodes, type Io } from "./io.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export type Parsed<O extends Options> = { values: { [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string }; positionals: string[] };

/** Parses flags; prints help or a usage error and returns an exit code instead when it should stop. */
export function parseFlags<O extends Options>(
  args: string[],
  options: O,
  help: string,
  io: Io,
): Parsed<O> | number {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (e) {
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
  // Messages quote paths and values: escape what could forge a line or drive the terminal (a message of several diagnostics keeps its lines).
  io.stderr(`dockwright: ${message.split("\n").map(printable).join("\n")}\n`);
  return exitCodes.invalidInput;
}
