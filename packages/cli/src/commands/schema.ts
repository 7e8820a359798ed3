import { settingsJsonSchema } from "@dockwright/core";
import { parseFlags } from "../args.js";
import { exitCodes, type Command } from "../io.js";

const help = `Usage: dockwright schema

Prints the JSON Schema of the Docker settings (settings.docker), for editors.
`;

export const schemaCommand: Command = async (args, io) => {
  const parsed = parseFlags(args, {}, help, io);
  if (typeof parsed === "number") return parsed;
  io.stdout(`${JSON.stringify(settingsJsonSchema(), null, 2)}\n`);
  return exitCodes.ok;
};
