/**
 * Content hashes of a walked context, and the snapshot digest that feeds the image checksum.
 *
 * A stat cache (size, mtime, inode per path) lets an unchanged tree be re-hashed without reading
 * a byte, as git's index does. Files modified less than two seconds before they are hashed are not
 * cached: a later write within the same timestamp tick would go unnoticed ("racy git").
 *
 * When much must be read, worker threads share the reading and hashing with this thread, each
 * taking files of about equal total size: measured on the bench tree, one worker beside the main
 * thread beat one thread (and a pool of asynchronous reads on libuv's threads was slower than
 * both). Below `parallelBytes` a worker's start-up costs more than it saves.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
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
const parallelBytes = 32 * 1024 * 1024;
const maxThreads = 4;

/** The snapshot of a walk: every file hashed (sha256, streamed), then the digest over all. */
export async function hashContext(walk: ContextWalk, options: HashOptions = {}): Promise<ContextSnapshot> {
  const { cache } = options;
  const racyAfter = Date.now() - racyMs;
  const cached = (entry: WalkEntry): CachedHash | undefined => {
    const hit = cache?.get(entry.path);
    return hit && hit.size === entry.size && hit.mtimeMs === entry.mtimeMs && hit.ino === entry.ino ? hit : undefined;
  };
  const toRead = walk.entries.filter((entry) => entry.type === "file" && !cached(entry));
  const read = await readAll(walk.root, toRead, options.onProgress);
  const entries: ContextEntry[] = [];
  let totalSize = 0;
  for (const entry of walk.entries) {
    let hashed: ContextEntry | undefined;
    if (entry.type !== "file") hashed = otherEntry(entry);
    else {
      const hit = cached(entry);
      const result = hit ?? read.get(entry.path);
      if (!result) continue; // vanished since the walk, as BuildKit skips it
      // A size other than the walk's means the file is being written: hash what was read, cache nothing.
      if (!hit && cache && result.size === entry.size && entry.mtimeMs < racyAfter) {
        cache.set(entry.path, { size: entry.size, mtimeMs: entry.mtimeMs, ino: entry.ino, sha256: result.sha256 });
      }
      hashed = fileEntry(entry, result.size, result.sha256);
    }
    entries.push(hashed);
    totalSize += hashed.size;
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

type Hashed = { sha256: string; size: number };

/** Reads and hashes `files`, on worker threads too when there is much to read. Vanished files are missing. */
async function readAll(root: string, files: readonly WalkEntry[], onProgress?: (progress: Progress) => void): Promise<Map<string, Hashed>> {
  const bytes = files.reduce((sum, file) => sum + file.size, 0);
  const threads = bytes < parallelBytes ? 1 : Math.min(maxThreads, availableParallelism());
  const shares = share(files, threads);
  const workers = shares.slice(1).map((part) => inWorker(root, part));
  const results = new Map<string, Hashed>();
  const collect = (part: readonly WalkEntry[], outcomes: readonly Outcome[]) => part.forEach((file, i) => {
    const outcome = outcomes[i]!;
    if (typeof outcome === "string") throw unreadableFile(file.path, outcome);
    if (outcome) results.set(file.path, outcome);
  });
  // This thread's share, in batches, pausing now and then for progress and the workers' messages.
  const pause = pacer(onProgress);
  const mine = shares[0] ?? [];
  const batch = 64;
  let done = 0;
  let failure: unknown;
  try {
    for (let i = 0; i < mine.length; i += batch) {
      const part = mine.slice(i, i + batch);
      collect(part, hashFiles(root, part.map((f) => f.path), fs, createHash));
      done += part.reduce((sum, file) => sum + file.size, 0);
      const paused = pause(i + part.length, done);
      if (paused) await paused;
    }
  } catch (e) {
    failure = e;
  }
  // Every worker ends before this returns, even when this thread failed first.
  const outcomes = await Promise.allSettled(workers);
  if (failure !== undefined) throw failure;
  outcomes.forEach((outcome, i) => {
    if (outcome.status === "rejected") throw outcome.reason;
    collect(shares[i + 1]!, outcome.value);
  });
  return results;
}

/** `threads` shares of about equal size: the largest files first, each to the smallest share so far. */
function share(files: readonly WalkEntry[], threads: number): WalkEntry[][] {
  if (threads === 1) return [[...files]];
  const shares = Array.from({ length: threads }, () => ({ files: [] as WalkEntry[], bytes: 0 }));
  for (const file of [...files].sort((a, b) => b.size - a.size)) {
    const smallest = shares.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    smallest.files.push(file);
    smallest.bytes += file.size;
  }
  return shares.map((s) => s.files);
}

/** A file's hash; undefined when it vanished; the error code when it cannot be read. */
type Outcome = Hashed | undefined | string;

/**
 * Hashes files in order, each read in chunks into one reused buffer. Self-contained, with its
 * modules passed in: a worker runs it from its source text (see `inWorker`).
 */
function hashFiles(root: string, files: readonly string[], fsModule: typeof fs, hash: typeof createHash): Outcome[] {
  const buffer = Buffer.allocUnsafe(1 << 20);
  return files.map((file) => {
    let fd: number;
    try {
      fd = fsModule.openSync(`${root}/${file}`, fsModule.constants.O_RDONLY | fsModule.constants.O_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === "ENOENT" ? undefined : (code ?? String(e));
    }
    try {
      const sha = hash("sha256");
      let size = 0;
      for (let n; (n = fsModule.readSync(fd, buffer, 0, buffer.length, null)) > 0; size += n) sha.update(buffer.subarray(0, n));
      return { sha256: `sha256:${sha.digest("hex")}`, size };
    } catch (e) {
      return (e as NodeJS.ErrnoException).code ?? String(e);
    } finally {
      fsModule.closeSync(fd);
    }
  });
}

/**
 * `hashFiles` on a worker thread. The worker's program is the function's own source, so there is
 * one definition and no file to find beside this module (which may be bundled or run from source).
 */
function inWorker(root: string, files: readonly WalkEntry[]): Promise<Outcome[]> {
  const program = `const { parentPort, workerData } = require("node:worker_threads");
parentPort.postMessage((${hashFiles.toString()})(workerData.root, workerData.files, require("node:fs"), require("node:crypto").createHash));`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(program, { eval: true, workerData: { root, files: files.map((f) => f.path) } });
    worker.once("message", (outcomes: Outcome[]) => {
      resolve(outcomes);
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`a hashing worker stopped with exit code ${code}`)));
  });
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
