import path from "node:path";
import { DiagnosticError, formatDiagnostic, printable } from "@dockwright/core/diagnostics";
import { contextWarnings, findSourceRoot, loadDockerignore, walkContext } from "@dockwright/context";
import { invalidInput, parseFlags } from "../args.js";
import { exitCodes, type Command } from "../io.js";
import { progressLine } from "../progress.js";

const help = `Usage: dockwright context [DIR] [options]

Lists the files Docker (BuildKit) would send as build context for DIR, with
Docker's exact .dockerignore semantics: regular files and symbolic links, one
relative path per line, sorted. A path holding a control character, " or \\ is
printed as a JSON string. DIR defaults to the source root: the nearest folder
at or above the working directory holding .zen, else the working directory.

Options:
  --dockerignore FILE    ignore file to use instead of DIR/.dockerignore
  --json                 print {root, dockerignore, files: [{path, type, size}],
                         totals: {files, bytes}, warnings, skipped} instead
  -h, --help             this help

Warnings (large contexts, files that look like secrets) go to standard error.
`;

export const contextCommand: Command = async (args, io) => {
  const parsed = parseFlags(args, { dockerignore: { type: "string" }, json: { type: "boolean" } }, help, io);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 1) return invalidInput(io, `context takes at most one DIR, got ${positionals.length}. Run \`dockwright context --help\`.`);
  const progress = progressLine(io);
  try {
    const dir = positionals[0];
    const root = dir !== undefined ? path.resolve(io.cwd, dir) : await findSourceRoot({ start: io.cwd, root: "." });
    const dockerignore = await loadDockerignore(root, values.dockerignore === undefined ? undefined : path.resolve(io.cwd, values.dockerignore));
    const walk = await walkContext(root, { patterns: dockerignore.patterns, onProgress: progress.update });
    progress.done();
    const warnings = contextWarnings(walk, { dockerignore: dockerignore.file });
    if (values.json) {
      const files = walk.entries.map(({ path, type, size, target }) => (type === "symlink" ? { path, type, size, target } : { path, type, size }));
      const report = { root, dockerignore: dockerignore.file ?? null, files, totals: { files: files.length, bytes: walk.totalSize }, warnings, skipped: walk.special };
      io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      io.stdout(walk.entries.map((e) => `${printablePath(e.path)}\n`).join(""));
      for (const warning of warnings) io.stderr(`${formatDiagnostic(warning)}\n`);
    }
    return exitCodes.ok;
  } catch (e) {
    progress.done();
    if (e instanceof DiagnosticError) return invalidInput(io, e.diagnostics.map(formatDiagnostic).join("\n"));
    throw e;
  }
};

/** One path per line stays one line: a path that could break or fake that is quoted, as git does. */
function printablePath(file: string): string {
  return /[\x00-\x1f\x7f-\x9f"\\\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(file) ? printable(JSON.stringify(file)) : file;
}
