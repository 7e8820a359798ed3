/**
 * The code archive of the download-from-artifact-store mode: the source root as git would see it
 * (`.gitignore` files at every level; never `.git` or `.zen`), packed as a deterministic `.tar.gz`
 * that is uploaded instead of baking the sources into an image.
 *
 * The tar is `writeContextTar`'s (sorted, owner 0:0, time 0). Modes are git's two (0644, or 0755
 * when any execute bit is set), so a different umask gives the same archive. The name and hash
 * are of the uncompressed tar: gzip bytes depend on the zlib build (Node's differs between
 * versions and CPUs), the code they hold does not.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { codes, DiagnosticError, error, warning } from "@dockwright/core/diagnostics";
import type { ContextEntry, Diagnostic } from "@dockwright/core";
import ignore, { type Ignore } from "ignore";
import { writeContextTar } from "./tar.js";
import { sortByPath } from "./paths.js";
import { formatBytes, secretWarnings } from "./warnings.js";

export type CodeArchiveOptions = {
  /** Absolute path of the source root. */
  root: string;
  /** The folder the archive is written to. */
  out: string;
  /** Paths relative to the root to leave out as well, e.g. the output folder when it lies inside. */
  exclude?: readonly string[];
};

export type CodeArchive = {
  /** Absolute path of the archive: `<out>/code-<first 16 hex digits of sha256>.tar.gz`. */
  file: string;
  /** `sha256:<hex>` of the uncompressed tar. */
  sha256: string;
  /** Size of the `.tar.gz` in bytes. */
  size: number;
  diagnostics: Diagnostic[];
};

const bigArchive = 20 * 1024 * 1024; // where the reference system warns about the upload size
const largestShown = 5;
/** Never part of the code: git's own data, and ZenML's repository marker. */
const alwaysLeftOut = new Set([".git", ".zen"]);

/** Packs the source root into `out`; see the module comment. */
export async function writeCodeArchive(options: CodeArchiveOptions): Promise<CodeArchive> {
  const entries = codeFiles(options.root, new Set(options.exclude ?? []));
  await mkdir(options.out, { recursive: true });
  const partial = path.join(options.out, `.code-${randomBytes(6).toString("hex")}.partial`);
  const hash = createHash("sha256");
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await Promise.all([
      writeContextTar(hashing, options.root, { entries }),
      // Level 9, as npm packs: the lower levels take CPU-specific shortcuts in Node's zlib.
      pipeline(hashing, createGzip({ level: 9 }), fixedOsByte(), fs.createWriteStream(partial)),
    ]);
    const hex = hash.digest("hex");
    const file = path.join(options.out, `code-${hex.slice(0, 16)}.tar.gz`);
    await rename(partial, file);
    const { size } = await stat(file);
    const secrets = secretWarnings(sortByPath(entries), "archive");
    return { file, sha256: `sha256:${hex}`, size, diagnostics: size > bigArchive ? [...secrets, sizeWarning(size, entries)] : secrets };
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  }
}

/** A folder's `.gitignore` rules; `dir` is its path from the root, "" for the root. */
type Rules = { dir: string; ignore: Ignore };

/** The files and links under `root` that git would not ignore, in no particular order. */
function codeFiles(root: string, exclude: ReadonlySet<string>): ContextEntry[] {
  const entries: ContextEntry[] = [];
  const visit = (dir: string, inherited: readonly Rules[]): void => {
    const absolute = dir ? `${root}/${dir}` : root;
    const own = readGitignore(absolute, dir ? `${dir}/.gitignore` : ".gitignore");
    const rules = own === undefined ? inherited : [...inherited, { dir, ignore: ignore().add(own) }];
    for (const dirent of readFolder(absolute, dir)) {
      const rel = dir ? `${dir}/${dirent.name}` : dirent.name;
      if (alwaysLeftOut.has(dirent.name) || exclude.has(rel) || isIgnored(rules, rel, dirent.isDirectory())) continue;
      if (dirent.name.includes("\ufffd")) throw notUtf8(rel);
      if (dirent.isDirectory()) visit(rel, rules);
      else {
        const entry = record(`${absolute}/${dirent.name}`, rel);
        if (entry) entries.push(entry);
      }
    }
  };
  visit("", []);
  return entries;
}

/**
 * git's precedence: the deepest `.gitignore` with a matching pattern decides, and within one file
 * the last matching pattern (`!` re-includes). The walk never enters an ignored folder, so, as in
 * git, nothing below it can be re-included.
 */
function isIgnored(rules: readonly Rules[], rel: string, isDir: boolean): boolean {
  for (let i = rules.length - 1; i >= 0; i--) {
    const { dir, ignore } = rules[i]!;
    const local = dir ? rel.slice(dir.length + 1) : rel;
    const result = ignore.test(isDir ? `${local}/` : local);
    if (result.ignored || result.unignored) return result.ignored;
  }
  return false;
}

function readGitignore(folder: string, rel: string): string | undefined {
  try {
    return fs.readFileSync(`${folder}/.gitignore`, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR") return undefined;
    throw unreadable(rel, code);
  }
}

function readFolder(absolute: string, rel: string): fs.Dirent[] {
  try {
    return fs.readdirSync(absolute, { withFileTypes: true });
  } catch (e) {
    throw unreadable(rel || ".", (e as NodeJS.ErrnoException).code);
  }
}

/** A regular file or link as git stores it; undefined for sockets, FIFOs and devices. */
function record(absolute: string, rel: string): ContextEntry | undefined {
  try {
    const stat = fs.lstatSync(absolute);
    if (stat.isSymbolicLink()) return { path: rel, type: "symlink", size: 0, mode: 0o777, target: fs.readlinkSync(absolute) };
    if (!stat.isFile()) return undefined;
    return { path: rel, type: "file", size: stat.size, mode: stat.mode & 0o111 ? 0o755 : 0o644 };
  } catch (e) {
    throw unreadable(rel, (e as NodeJS.ErrnoException).code);
  }
}

/** Sets the gzip header's OS byte (offset 9) to Unix, whatever the zlib build writes there. */
function fixedOsByte(): Transform {
  let offset = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (offset <= 9 && 9 < offset + chunk.length) chunk[9 - offset] = 3;
      offset += chunk.length;
      done(null, chunk);
    },
  });
}

function sizeWarning(size: number, entries: readonly ContextEntry[]): Diagnostic {
  const largest = [...entries]
    .sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1))
    .slice(0, largestShown)
    .map((e) => `${e.path} (${formatBytes(e.size)})`);
  return warning(codes.CONTEXT_WARNING, ".gitignore",
    `the code archive for the artifact store is ${formatBytes(size)}; its largest files: ${largest.join(", ")}. ` +
      "Leave out what the pipeline does not need (data, models, virtual environments) in .gitignore.");
}

function notUtf8(rel: string): DiagnosticError {
  return new DiagnosticError([
    error(codes.INVALID_PATH, rel, `the name ${JSON.stringify(rel)} is not valid UTF-8, so it cannot be archived. Rename it, or add it to .gitignore.`),
  ]);
}

function unreadable(rel: string, code: string | undefined): DiagnosticError {
  return new DiagnosticError([
    error(codes.CONTEXT_UNREADABLE, rel, `${JSON.stringify(rel)} of the source root cannot be read (${code ?? "unknown error"}), so the code archive cannot be made. Make it readable, or add it to .gitignore.`),
  ]);
}
