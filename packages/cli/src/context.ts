/** The CLI's use of @dockwright/context: finding the source root and snapshotting a context. */
import { realpath } from "node:fs/promises";
import path from "node:path";
import { inside } from "./paths.js";
import { DiagnosticError, formatDiagnostic, type ContextSnapshot, type Diagnostic } from "@dockwright/core";
import {
  contextWarnings,
  findSourceRoot,
  hashContext,
  loadDockerignore,
  loadStatCache,
  saveStatCache,
  walkContext,
  type Progress,
} from "@dockwright/context";

/** The nearest folder at or above `start` holding `.zen`, else `start` itself. */
export async function findRoot(start: string): Promise<string | { message: string }> {
  try {
    return await findSourceRoot({ start, root: start });
  } catch (e) {
    if (e instanceof DiagnosticError) return { message: e.diagnostics.map(formatDiagnostic).join(" ") };
    throw e;
  }
}

/** Where a compile keeps what only speeds up the next one. */
export function cacheFolder(out: string): string {
  return path.join(out, ".dockwright");
}

export type SnapshotRequest = {
  root: string;
  /** The output folder: never part of the context, even when it lies inside the root. */
  out: string;
  /** Absolute path of an explicit .dockerignore. */
  dockerignore?: string;
  onProgress?: (progress: Progress) => void;
};

export async function snapshotContext(request: SnapshotRequest): Promise<{ patterns: string[]; snapshot: ContextSnapshot; diagnostics: Diagnostic[] }> {
  const { file, patterns } = await loadDockerignore(request.root, request.dockerignore);
  // Through links too: an output folder named by a link into the root is still inside it.
  const outInRoot = inside(await realpath(request.root), await realpath(request.out).catch(() => path.resolve(request.out)));
  const ownOutput = outInRoot === undefined ? [] : [escapePattern(outInRoot)];
  const { onProgress } = request;
  const walk = await walkContext(request.root, { patterns: [...patterns, ...ownOutput], onProgress });
  const cacheFile = path.join(cacheFolder(request.out), "stat-cache.json");
  const cache = await loadStatCache(cacheFile);
  const snapshot = await hashContext(walk, { cache, onProgress });
  await saveStatCache(cacheFile, cache);
  return { patterns, snapshot, diagnostics: contextWarnings({ ...snapshot, special: walk.special }, { dockerignore: file }) };
}

/**
 * A path as a pattern that matches only itself. Docker trims a pattern and takes a leading `!` as
 * an exception, so a first or last character that would be read so is written as a class.
 */
function escapePattern(relative: string): string {
  const escaped = relative.replace(/[*?[\]\\^]/g, "\\$&");
  return escaped.replace(/^[!\s\u0085]/, "[$&]").replace(/[\s\u0085]$/, "[$&]");
}
