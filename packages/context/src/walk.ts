/**
 * The walk: the files, symbolic links and folders Docker would send as build context, found the
 * way BuildKit finds them, so excluded directories are never read unless an exception needs it.
 *
 * Two passes. `listContext` reads directories only: `readdir` gives every entry's type, so a
 * listing makes no call per file, as Go's `filepath.WalkDir` makes none. `walkContext` then
 * `lstat`s each listed entry for what a snapshot needs (size, mode, and the stat cache's mtime and
 * inode). The calls are synchronous: measured on this project's 100,000-file tree, a pool of
 * asynchronous `lstat`s on libuv's threads and two worker threads were both slower than one
 * thread of synchronous calls, whose cost is the system call itself. The walk still yields to the
 * event loop every 50 ms, so progress can be drawn and signals handled.
 *
 * Folders are entries too: BuildKit sends every folder it does not exclude, even one whose files
 * are all excluded, and an excluded folder that holds something re-included, so `COPY . .`
 * creates them (and an empty `data/` exists in the image).
 *
 * Names that are not valid UTF-8 cannot be carried by a snapshot (JSON strings) and would not be
 * found again under their decoded form. They are matched by their decoded form (each bad byte
 * read as U+FFFD, as Docker's regular expressions read it); excluded, they are fine, but one that
 * Docker would send, or a folder the walk must enter, is an INVALID_PATH error naming the bytes.
 */
import { isUtf8 } from "node:buffer";
import fs from "node:fs";
import path from "node:path";
import { codes, DiagnosticError, error } from "@dockwright/core/diagnostics";
import type { ContextEntry } from "@dockwright/core";
import { createMatcher, type Matcher, type MatchState } from "./matcher.js";
import { compareCodePoints } from "@dockwright/core/strings";
import { showBytes, sortByPath } from "./paths.js";

/** A listed entry: its path, and its type as `readdir` reports it. */
export type ListedEntry = { path: string; type: ContextEntry["type"] };

export type ContextList = {
  /** Absolute path of the context root. */
  root: string;
  /** Files, symbolic links and folders Docker would send (not the root), sorted by path in UTF-8 byte order. */
  entries: ListedEntry[];
  /** Sockets, FIFOs and devices Docker would send, which a snapshot cannot hold: left out. */
  special: string[];
};

/** A walked entry: the snapshot's fields, plus what the stat cache compares. */
export type WalkEntry = ContextEntry & {
  /** Never part of a digest: they differ between machines. */
  mtimeMs: number;
  ino: number;
};

export type ContextWalk = {
  /** Absolute path of the context root. */
  root: string;
  /** Files, symbolic links and folders Docker would send, sorted by path in UTF-8 byte order. */
  entries: WalkEntry[];
  /** Sum of file sizes in bytes. */
  totalSize: number;
  /** Sockets, FIFOs and devices Docker would send, which a snapshot cannot hold: left out. */
  special: string[];
};

export type Progress = { files: number; bytes: number };

export type WalkOptions = {
  /** Patterns in Docker's normalized form, as `loadDockerignore` returns them. None: send all. */
  patterns?: readonly string[];
  /** Called about every 50 ms during a long walk, e.g. to draw a progress line. */
  onProgress?: (progress: Progress) => void;
};

/** A listing under way; `files` counts its files and links, for progress. */
type Listing = ContextList & { files: number };

/** A folder to read; `listed` once it is an entry (an excluded folder becomes one when something inside is kept). */
type Dir = { rel: string; state?: MatchState; parent?: Dir; listed: boolean };

/** Lists `root` with Docker's `.dockerignore` semantics, reading folders only; see the module comment. */
export async function listContext(root: string, options: WalkOptions = {}): Promise<ContextList> {
  const absolute = path.resolve(root);
  checkRoot(absolute);
  const matcher = createMatcher(options.patterns ?? []);
  const list: Listing = { root: absolute, entries: [], special: [], files: 0 };
  const pause = pacer(options.onProgress);
  const pending: Dir[] = [{ rel: "", listed: true }];
  for (let dir = pending.pop(); dir; dir = pending.pop()) {
    readDir(absolute, dir, matcher, list, pending);
    const paused = pause(list.files, 0);
    if (paused) await paused;
  }
  sortByPath(list.entries);
  list.special.sort(compareCodePoints);
  return { root: list.root, entries: list.entries, special: list.special };
}

/** Lists `root` (see `listContext`), then reads each entry's size and mode; links are read, never followed. */
export async function walkContext(root: string, options: WalkOptions = {}): Promise<ContextWalk> {
  const list = await listContext(root, options);
  const walk: ContextWalk = { root: list.root, entries: [], totalSize: 0, special: list.special };
  const pause = pacer(options.onProgress);
  const files = list.entries.filter((e) => e.type !== "dir").length;
  for (const entry of list.entries) {
    record(list.root, entry.path, walk);
    const paused = pause(files, walk.totalSize);
    if (paused) await paused;
  }
  // Files found special only now (replaced while walked) joined the listing's: one order for all.
  walk.special.sort(compareCodePoints);
  return walk;
}

function checkRoot(root: string): void {
  const stat = fs.statSync(root, { throwIfNoEntry: false });
  if (!stat) throw new DiagnosticError([error(codes.FILE_NOT_FOUND, root, `the context folder ${JSON.stringify(root)} does not exist. Name an existing folder.`)]);
  if (!stat.isDirectory()) throw new DiagnosticError([error(codes.INVALID_PATH, root, `the context root ${JSON.stringify(root)} is not a folder. Name a folder.`)]);
}

/** Reads one directory: lists its files, links and folders, queues the folders the walk must enter. */
function readDir(root: string, dir: Dir, matcher: Matcher, list: Listing, pending: Dir[]): void {
  const absolute = dir.rel ? `${root}/${dir.rel}` : root;
  const dirents = readFolder(absolute, dir);
  // Node decodes names with U+FFFD; only then is a second, byte-exact read worth its cost.
  const badNames = dirents.some((d) => d.name.includes("\ufffd")) ? nonUtf8Names(absolute) : undefined;
  for (const dirent of dirents) {
    const rel = dir.rel ? `${dir.rel}/${dirent.name}` : dirent.name;
    const state = matcher.match(rel, dir.state);
    const isDir = dirent.isDirectory();
    // An excluded folder is still entered when an exception may re-include something inside.
    if (state.excluded && (!isDir || matcher.canSkip(rel))) continue;
    const bad = badNames?.get(dirent.name);
    if (bad) throw nonUtf8("name", dir.rel ? `${dir.rel}/${showBytes(bad)}` : showBytes(bad));
    if (isDir) {
      const folder: Dir = { rel, state, parent: dir, listed: false };
      if (!state.excluded) keep(folder, list);
      pending.push(folder);
      continue;
    }
    keep(dir, list);
    list.files++;
    if (dirent.isFile()) list.entries.push({ path: rel, type: "file" });
    else if (dirent.isSymbolicLink()) list.entries.push({ path: rel, type: "symlink" });
    else list.special.push(rel); // a FIFO, socket or device
  }
}

/** Lists a folder, and before it every excluded folder above it that is not listed yet (BuildKit sends them as parents). */
function keep(dir: Dir, list: ContextList): void {
  for (let d: Dir | undefined = dir; d && !d.listed; d = d.parent) {
    d.listed = true;
    list.entries.push({ path: d.rel, type: "dir" });
  }
}

/** A directory's entries; a permission error is fatal only where Docker fails too. */
function readFolder(absolute: string, dir: Dir): fs.Dirent[] {
  try {
    return fs.readdirSync(absolute, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // BuildKit skips what vanished during the walk, and unreadable folders it would not send.
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    if ((code === "EACCES" || code === "EPERM") && dir.state?.excluded) return [];
    throw unreadable(dir.rel || ".", "folder", code ?? String(e));
  }
}

/** lstat one listed entry and add it to the walk, as what it is now. Links are recorded, never followed. */
function record(root: string, rel: string, walk: ContextWalk): void {
  const absolute = `${root}/${rel}`;
  let stat: fs.Stats;
  let target: Buffer | undefined;
  try {
    stat = fs.lstatSync(absolute);
    if (stat.isSymbolicLink()) target = fs.readlinkSync(absolute, { encoding: "buffer" });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return; // vanished since it was listed
    throw unreadable(rel, "entry", code ?? String(e));
  }
  const mode = stat.mode & 0o7777;
  const times = { mtimeMs: stat.mtimeMs, ino: stat.ino };
  if (stat.isFile()) {
    walk.entries.push({ path: rel, type: "file", size: stat.size, mode, ...times });
    walk.totalSize += stat.size;
  } else if (target) {
    if (!isUtf8(target)) throw nonUtf8("link", `${rel} -> ${showBytes(target)}`);
    walk.entries.push({ path: rel, type: "symlink", size: 0, mode, target: target.toString("utf8"), ...times });
  } else if (stat.isDirectory()) {
    walk.entries.push({ path: rel, type: "dir", size: 0, mode, ...times });
  } else {
    walk.special.push(rel); // replaced by a FIFO, socket or device since the listing
  }
}

/** Names in a directory whose bytes are not UTF-8, keyed by the decoded name Node reports. */
function nonUtf8Names(absolute: string): Map<string, Buffer> {
  const names = new Map<string, Buffer>();
  for (const raw of fs.readdirSync(absolute, { encoding: "buffer" })) {
    if (!isUtf8(raw)) names.set(raw.toString("utf8"), raw);
  }
  return names;
}

function nonUtf8(what: string, shown: string): DiagnosticError {
  return new DiagnosticError([
    error(codes.INVALID_PATH, shown,
      `the ${what} "${shown}" is not valid UTF-8. Docker would send it, but Dockwright keeps build contexts as UTF-8 paths. ` +
        "Rename it, or exclude it (or its folder) in .dockerignore."),
  ]);
}

function unreadable(rel: string, what: string, code: string): DiagnosticError {
  return new DiagnosticError([
    error(codes.CONTEXT_UNREADABLE, rel,
      `the ${what} ${JSON.stringify(rel)} of the build context cannot be read (${code}); Docker would fail on it too. ` +
        "Make it readable, or exclude it in .dockerignore."),
  ]);
}

/**
 * A pause every 50 ms: calls `onProgress` and lets the event loop run. Shared with hashing.
 * Between pauses it returns nothing, so the caller does not even await: `await` alone costs a
 * microtask per file.
 */
export function pacer(onProgress?: (progress: Progress) => void): (files: number, bytes: number) => Promise<void> | undefined {
  let last = performance.now();
  return (files, bytes) => {
    if (performance.now() - last < 50) return undefined;
    onProgress?.({ files, bytes });
    return new Promise((resolve) => setImmediate(resolve)).then(() => {
      last = performance.now();
    });
  };
}
