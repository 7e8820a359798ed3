import { readFile } from "node:fs/promises";
import path from "node:path";
import { LlbDecodeError, printDefinition } from "@dockwright/emit-llb";
import { invalidInput, parseFlags } from "../args.js";
import { exitCodes, type Command } from "../io.js";

const help = `Usage: dockwright inspect-llb FILE

Prints FILE, a BuildKit LLB definition (the llb.pb that \`dockwright compile\`
writes, or any marshalled pb.Definition that \`buildctl build\` reads), as the
JSON \`buildctl debug dump-llb\` prints: one object per operation, in the
definition's order, with its digest and metadata. The array is pretty-printed,
like llb.json.

Options:
  -h, --help    this help
`;

export const inspectLlbCommand: Command = async (args, io) => {
  const parsed = parseFlags(args, {}, help, io);
  if (typeof parsed === "number") return parsed;
  if (parsed.positionals.length !== 1) {
    return invalidInput(io, `inspect-llb takes one FILE, got ${parsed.positionals.length}. Run \`dockwright inspect-llb --help\`.`);
  }
  const file = parsed.positionals[0]!;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path.resolve(io.cwd, file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "it does not exist" : code === "EISDIR" ? "it is a directory" : (e as Error).message;
    return invalidInput(io, `cannot read ${JSON.stringify(file)}: ${reason}.`);
  }
  try {
    io.stdout(printDefinition(bytes));
    return exitCodes.ok;
  } catch (e) {
    if (!(e instanceof LlbDecodeError)) throw e;
    return invalidInput(io,
      `${JSON.stringify(file)} is not a BuildKit LLB definition: ${e.message}. ` +
        "Give the llb.pb that `dockwright compile --target llb` writes, or a file `buildctl build` reads on standard input.");
  }
};
