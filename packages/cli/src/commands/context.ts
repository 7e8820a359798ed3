import path from "node:path";
import { DiagnosticError, formatDiagnostic, printable } from "@dockwright/core/diagnostics";
import { contextWarnings, findSourceRoot, listContext, loadDockerignore, walkContext } from "@dockwright/context";
import { invalidInput, parseFlags } from "../args.js";
import { exitCodes, type Command } from "../io.js";
import { progressLine } from "../progress.js";

const help = `Usage: dockwright context [DIR] [options]

Lists the files Docker (BuildKit) would send as build context for DIR, with
Docker's exact .dockerignore semantics: regular files and symbolic links, one
relative path per line, sorted. A path holding a control character, " or \\ is
printed as a JSON string. DIR defaults to the source root: the nearest folder
at or above the working directory holding .zen, else the working directory.
The listing reads folders only; --json reads every entry for its size.

Options:
  --dockerignore FILE    ignore file to use instead of DIR/.dockerignore
  --json                 print {root, dockerignore, files: [{path, type, size}],
                         dirs, totals: {files, dirs, bytes}, warnings, skipped}
                         instead: dirs are the folders COPY . . creates, empty
                         ones and those whose files are all excluded included
  -h, --help             this help

Warnings go to standard error: files that look like secrets, and with --json
a large context.
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
    const options = { patterns: dockerignore.patterns, onProgress: progress.update };
    if (values.json) {
      const walk = await walkContext(root, options);
      progress.done();
      const files = walk.entries.filter((e) => e.type !== "dir")
        .map(({ path, type, size, target }) => (type === "symlink" ? { path, type, size, target } : { path, type, size }));
      const dirs = walk.entries.flatMap((e) => (e.type === "dir" ? [e.path] : []));
      const warnings = contextWarnings(walk, { dockerignore: dockerignore.file });
      const report = { root, dockerignore: dockerignore.file ?? null, files, dirs, totals: { files: files.length, dirs: dirs.length, bytes: walk.totalSize }, warnings, skipped: walk.special };
      io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      // Files and links only, as DESIGN's contract says; Docker has no listing of its own to follow.
      const list = await listContext(root, options);
      progress.done();
      io.stdout(list.entries.flatMap((e) => (e.type === "dir" ? [] : [`${printablePath(e.path)}\n`])).join(""));
      for (const warning of contextWarnings(list, { dockerignore: dockerignore.file })) io.stderr(`${formatDiagnostic(warning)}\n`);
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
