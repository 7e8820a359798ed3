/** Reading `.dockerignore` files as Docker reads them (moby/patternmatcher `ignorefile.ReadAll`). */
import { realpath } from "node:fs/promises";
import path from "node:path";
import { codes, DiagnosticError, error } from "@dockwright/core/diagnostics";
import { cleanPath } from "@dockwright/core/strings";
import { parsePattern, PatternError, trimSpace } from "./pattern.js";
import { describeError, readRegularFile } from "./read.js";

/** The patterns of a context, and where they came from. */
export type Dockerignore = {
  /** Absolute path of the file read; absent when there is none. */
  file?: string;
  /** Docker's normalized patterns, `!/.zen` (as `!.zen`) last. */
  patterns: string[];
};

/**
 * The patterns of an ignore file's text, normalized as Docker normalizes them: a BOM dropped from
 * the first line, `#` comments only at column 0, lines trimmed, `!` split off and trimmed, paths
 * cleaned and one leading `/` dropped. Each pattern is checked; a pattern Docker refuses throws a
 * `DiagnosticError` (INVALID_DOCKERIGNORE) naming `file` and the line.
 */
export function parseDockerignore(text: string, file = ".dockerignore"): string[] {
  const patterns: string[] = [];
  text.split("\n").forEach((line, index) => {
    if (index === 0 && line.startsWith("\ufeff")) line = line.slice(1);
    if (line.startsWith("#")) return;
    let pattern = trimSpace(line); // also drops the \r of CRLF files
    if (pattern === "") return;
    const exception = pattern.startsWith("!");
    if (exception) pattern = trimSpace(pattern.slice(1));
    if (pattern !== "") {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1);
    }
    if (exception) pattern = `!${pattern}`;
    checkPattern(pattern, file, index + 1);
    patterns.push(pattern);
  });
  return patterns;
}

function checkPattern(pattern: string, file: string, line: number): void {
  try {
    parsePattern(pattern);
  } catch (e) {
    if (!(e instanceof PatternError)) throw e;
    throw new DiagnosticError([
      error(codes.INVALID_DOCKERIGNORE, `${file}:${line}`,
        `line ${line} of ${file} holds the pattern ${JSON.stringify(pattern)}, which Docker refuses (${e.message}); ` +
          "Docker would not build with this file. Fix or remove the line."),
    ]);
  }
}

/**
 * The patterns of a context: the explicit file when given (it wins, as in the reference system),
 * else `<root>/.dockerignore` when it exists, then `!/.zen` so the repository marker always
 * reaches the image. A relative `file` is relative to the root. The root's own file is read only
 * when it lies inside the root (it may be a link); the caller decides where an explicit one may
 * lie. Either must be a regular file of at most 16 MiB (`readRegularFile`).
 */
export async function loadDockerignore(root: string, file?: string): Promise<Dockerignore> {
  const chosen = path.resolve(root, file ?? ".dockerignore");
  const fail = (message: string) => new DiagnosticError([error(codes.INVALID_PATH, chosen, message)]);
  let real: string;
  try {
    real = await realpath(chosen);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // No ignore file of its own: the root may even be missing; the walk reports that.
    if ((code === "ENOENT" || code === "ENOTDIR") && file === undefined) return { patterns: zenException() };
    if (code === "ENOENT") {
      throw new DiagnosticError([error(codes.FILE_NOT_FOUND, chosen, `the .dockerignore file ${JSON.stringify(chosen)} does not exist. Fix the path or drop the setting.`)]);
    }
    throw fail(`the .dockerignore file ${JSON.stringify(chosen)} cannot be read (${describeError(e)}). Name a readable file.`);
  }
  if (file === undefined) {
    const realRoot = await realpath(root);
    const relative = path.relative(realRoot, real);
    if (relative === ".." || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
      throw fail(`the source root's .dockerignore leads to ${JSON.stringify(real)}, outside the source root; nothing outside the root is read. Replace the link by a file.`);
    }
  }
  const bytes = await readRegularFile(real, { what: `the .dockerignore file ${JSON.stringify(chosen)}`, path: chosen });
  // Invalid UTF-8 is decoded with U+FFFD, as file names are for matching (see walk.ts).
  const patterns = parseDockerignore(bytes.toString("utf8"), chosen);
  return { file: chosen, patterns: [...patterns, ...zenException()] };
}

function zenException(): string[] {
  return parseDockerignore("!/.zen");
}
