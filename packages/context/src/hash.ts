/**
 * Content hashes of a walked context, and the snapshot digest that feeds the image checksum.
 *
 * A stat cache (size, mtime, inode per path) lets an unchanged tree be re-hashed without reading
 * a byte, as git's index does. Files modified less than two seconds before they are hashed are not
 * cached: a later write within the same timestamp tick would go unnoticed ("racy git").
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { codes, DiagnosticError, error } from "@dockwright/core/diagnostics";
import type { ContextEntry, ContextSnapshot } from "@dockwright/core";
import { pacer, type ContextWalk, type Progress, type WalkEntry } from "./walk.js";

export type CachedHash = { size: number; mtimeMs: number; ino: number; sha256: string };

/** Content hashes by path, for one context root. Persist it with `saveStatCache`. */
export type StatCache = Map<string, CachedHash>;

export type HashOptions = {
  /** Read and updated: entries of unchanged files are reused, entries of gone files dropped. */
  cache?: StatCache;
  onProgress?: (progress: Progress) => void;
};

const racyMs = 2000;
const chunkSize = 1 << 20;

/** The snapshot of a walk: every file hashed (sha256, streamed), then the digest over all. */
export async function hashContext(walk: ContextWalk, options: HashOptions = {}): Promise<ContextSnapshot> {
  const { cache } = options;
  const buffer = Buffer.allocUnsafe(chunkSize);
  const racyAfter = Date.now() - racyMs;
  const pause = pacer(options.onProgress);
  const entries: ContextEntry[] = [];
  let totalSize = 0;
  for (const entry of walk.entries) {
    const hashed = entry.type === "file" ? hashEntry(walk.root, entry, buffer, cache, racyAfter) : otherEntry(entry);
    if (!hashed) continue; // vanished since the walk, as BuildKit skips it
    entries.push(hashed);
    totalSize += hashed.size;
    const paused = pause(entries.length, totalSize);
    if (paused) await paused;
  }
  if (cache) {
    const kept = new Set(walk.entries.flatMap((e) => (e.type === "file" ? [e.path] : [])));
    for (const key of cache.keys()) if (!kept.has(key)) cache.delete(key);
  }
  return { entries, digest: snapshotDigest(entries), totalSize };
}

/** A file or link as a snapshot carries it: without the stat fields. */
function fileEntry({ path, mode }: WalkEntry, size: number, sha256: string): ContextEntry {
  return { path, type: "file", size, mode, sha256 };
}

function otherEntry({ path, type, mode, target }: WalkEntry): ContextEntry {
  return type === "symlink" ? { path, type, size: 0, mode, target: target ?? "" } : { path, type, size: 0, mode };
}

function hashEntry(root: string, entry: WalkEntry, buffer: Buffer, cache: StatCache | undefined, racyAfter: number): ContextEntry | undefined {
  const cached = cache?.get(entry.path);
  if (cached && cached.size === entry.size && cached.mtimeMs === entry.mtimeMs && cached.ino === entry.ino) {
    return fileEntry(entry, entry.size, cached.sha256);
  }
  const result = hashFile(`${root}/${entry.path}`, entry.path, buffer);
  if (!result) return undefined;
  // A size other than the walk's means the file is being written: hash what was read, cache nothing.
  if (cache && result.size === entry.size && entry.mtimeMs < racyAfter) {
    cache.set(entry.path, { size: entry.size, mtimeMs: entry.mtimeMs, ino: entry.ino, sha256: result.sha256 });
  }
  return fileEntry(entry, result.size, result.sha256);
}

/** sha256 of a file, read in chunks into one reused buffer; undefined when it vanished. */
function hashFile(absolute: string, rel: string, buffer: Buffer): { sha256: string; size: number } | undefined {
  let fd: number;
  try {
    fd = fs.openSync(absolute, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw unreadableFile(rel, code ?? String(e));
  }
  try {
    const hash = createHash("sha256");
    let size = 0;
    for (let n; (n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0; size += n) hash.update(buffer.subarray(0, n));
    return { sha256: `sha256:${hash.digest("hex")}`, size };
  } catch (e) {
    throw unreadableFile(rel, (e as NodeJS.ErrnoException).code ?? String(e));
  } finally {
    fs.closeSync(fd);
  }
}

function unreadableFile(rel: string, code: string): DiagnosticError {
  return new DiagnosticError([
    error(codes.CONTEXT_UNREADABLE, rel,
      `the file ${JSON.stringify(rel)} of the build context cannot be read (${code}); Docker would fail on it too. ` +
        "Make it readable, or exclude it in .dockerignore."),
  ]);
}

/**
 * `sha256:<hex>` over the sorted entries: path, type, mode, size and content hash or link target
 * of each (a folder has neither), every field ended by a NUL (which no path or link target can hold, so the encoding is
 * unambiguous). Nothing machine-specific (times, inodes, owners) goes in.
 */
export function snapshotDigest(entries: readonly ContextEntry[]): string {
  const hash = createHash("sha256");
  for (const e of entries) hash.update(`${e.path}\0${e.type}\0${e.mode}\0${e.size}\0${e.sha256 ?? e.target ?? ""}\0`);
  return `sha256:${hash.digest("hex")}`;
}

/** A stat cache saved by `saveStatCache`; empty when the file is missing or unusable (it is only a cache). */
export async function loadStatCache(file: string): Promise<StatCache> {
  const cache: StatCache = new Map();
  let saved: unknown;
  try {
    saved = JSON.parse(await readFile(file, "utf8"));
  } catch {
    return cache;
  }
  const files = (saved as { version?: unknown; files?: unknown })?.files;
  if ((saved as { version?: unknown }).version !== 1 || typeof files !== "object" || files === null) return cache;
  for (const [key, value] of Object.entries(files)) {
    if (!Array.isArray(value) || value.length !== 4) continue;
    const [size, mtimeMs, ino, sha256] = value as unknown[];
    if (typeof size === "number" && typeof mtimeMs === "number" && typeof ino === "number" && typeof sha256 === "string") {
      cache.set(key, { size, mtimeMs, ino, sha256 });
    }
  }
  return cache;
}

/** Writes the cache as JSON, atomically (a temporary file renamed over the old one). */
export async function saveStatCache(file: string, cache: StatCache): Promise<void> {
  // fromEntries defines properties, so even a path named `__proto__` is kept as data.
  const files = Object.fromEntries([...cache].map(([key, c]) => [key, [c.size, c.mtimeMs, c.ino, c.sha256]]));
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temporary, JSON.stringify({ version: 1, files }));
    await rename(temporary, file);
  } catch (e) {
    await rm(temporary, { force: true });
    throw e;
  }
}
