/** Finding the source root, as the reference system finds it. */
import { stat } from "node:fs/promises";
import path from "node:path";
import { codes, DiagnosticError, error } from "@dockwright/core/diagnostics";

export type SourceRootOptions = {
  /** Where the search for a `.zen` folder starts (usually the working directory). */
  start: string;
  /** The pipeline's main file, relative to `start` or absolute. */
  mainFile?: string;
  /** An explicit root, relative to `start` or absolute: the last resort. */
  root?: string;
};

/**
 * The nearest folder at or above `start` holding a `.zen` folder (a ZenML repository); else the
 * folder of the main file; else the explicit root. None of them: a NO_SOURCE_ROOT error.
 */
export async function findSourceRoot(options: SourceRootOptions): Promise<string> {
  const start = path.resolve(options.start);
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (await isFolder(path.join(dir, ".zen"))) return dir;
    if (path.dirname(dir) === dir) break;
  }
  if (options.mainFile !== undefined) return path.dirname(path.resolve(start, options.mainFile));
  if (options.root !== undefined) return path.resolve(start, options.root);
  throw new DiagnosticError([
    error(codes.NO_SOURCE_ROOT, start,
      `no source root: no folder at or above ${JSON.stringify(start)} holds a .zen folder, and no main file or root was given. ` +
        "Run `zenml init` in the project folder, or name the root explicitly."),
  ]);
}

async function isFolder(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory();
  } catch {
    return false;
  }
}
