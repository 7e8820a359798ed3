/**
 * A deterministic tar stream of a build context, for `docker build -`, Kaniko and other remote
 * builders: entries sorted, owner 0:0 with empty names, times 0, modes kept, and PAX records for
 * long or non-ASCII names. The same snapshot gives the same bytes on every machine. Every folder
 * precedes what it holds, with the snapshot's mode (0755 for a folder only a generated file
 * needs), so extraction does not depend on a umask; empty folders are kept.
 */
import fs from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { codes, DiagnosticError, error } from "@dockwright/core/diagnostics";
import type { ContextEntry, GeneratedFile } from "@dockwright/core";
import { contextFiles, type ContextFile } from "./files.js";

const block = 512;
const chunkSize = 1 << 20;

/** Writes the context under `root` plus the generated files to `out` as a tar stream, then ends `out`. */
export async function writeContextTar(
  out: NodeJS.WritableStream,
  root: string,
  snapshot: { entries: readonly ContextEntry[] },
  generated: readonly GeneratedFile[] = [],
): Promise<void> {
  await pipeline(Readable.from(tarBlocks(root, contextFiles(snapshot.entries, generated))), out);
}

async function* tarBlocks(root: string, files: readonly ContextFile[]): AsyncGenerator<Buffer> {
  const dirs = new Set<string>();
  for (const file of files) {
    for (let slash = file.path.indexOf("/"); slash >= 0; slash = file.path.indexOf("/", slash + 1)) {
      const dir = file.path.slice(0, slash + 1);
      if (!dirs.has(dir)) {
        dirs.add(dir);
        yield header({ name: dir, type: "5", mode: 0o755, size: 0 });
      }
    }
    if ("source" in file && file.source.type === "dir") {
      // The snapshot's own folders come before what they hold (sorted), with their modes.
      dirs.add(`${file.path}/`);
      yield header({ name: `${file.path}/`, type: "5", mode: file.source.mode, size: 0 });
    } else if ("contents" in file) {
      yield header({ name: file.path, type: "0", mode: 0o644, size: file.contents.length });
      yield file.contents;
      yield padding(file.contents.length);
    } else if (file.source.type === "symlink") {
      yield header({ name: file.path, type: "2", mode: file.source.mode, size: 0, linkname: file.source.target ?? "" });
    } else {
      yield header({ name: file.path, type: "0", mode: file.source.mode, size: file.source.size });
      yield* contents(`${root}/${file.path}`, file.path, file.source.size);
      yield padding(file.source.size);
    }
  }
  yield Buffer.alloc(2 * block); // end of archive
}

/** Exactly `size` bytes of a file, in chunks; a file that changed size since the walk is an error. */
async function* contents(absolute: string, rel: string, size: number): AsyncGenerator<Buffer> {
  let fd: number;
  try {
    fd = fs.openSync(absolute, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw new DiagnosticError([
      error(codes.CONTEXT_UNREADABLE, rel, `the file ${JSON.stringify(rel)} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}). Make it readable, or leave it out of the context.`),
    ]);
  }
  try {
    for (let left = size; left > 0; ) {
      const chunk = Buffer.allocUnsafe(Math.min(left, chunkSize));
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) throw changed(rel);
      left -= n;
      yield chunk.subarray(0, n);
    }
    if (fs.readSync(fd, Buffer.alloc(1), 0, 1, null) !== 0) throw changed(rel);
  } finally {
    fs.closeSync(fd);
  }
}

function changed(rel: string): DiagnosticError {
  return new DiagnosticError([
    error(codes.CONTEXT_UNREADABLE, rel, `the file ${JSON.stringify(rel)} changed size while the build context was archived. Run again, or exclude files that are being written.`),
  ]);
}

function padding(size: number): Buffer {
  return Buffer.alloc((block - (size % block)) % block);
}

type Header = { name: string; type: "0" | "2" | "5" | "x"; mode: number; size: number; linkname?: string };

/** A ustar header, preceded by a PAX header when a name, link target or size does not fit. */
function header(h: Header): Buffer {
  const records = [
    fitsUstar(h.name) ? "" : paxRecord("path", h.name),
    h.linkname === undefined || fitsUstar(h.linkname) ? "" : paxRecord("linkpath", h.linkname),
    h.size <= 0o77777777777 ? "" : paxRecord("size", String(h.size)),
  ].join("");
  const main = ustar(h);
  if (records === "") return main;
  const body = Buffer.from(records);
  return Buffer.concat([ustar({ name: "PaxHeader", type: "x", mode: 0o644, size: body.length }), body, padding(body.length), main]);
}

function fitsUstar(text: string): boolean {
  return text.length <= 100 && /^[\x20-\x7e]*$/.test(text);
}

/** `<length> <key>=<value>\n`, where the length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const rest = Buffer.byteLength(` ${key}=${value}\n`);
  let length = rest + String(rest).length;
  if (String(length).length > String(rest).length) length = rest + String(length).length;
  return `${length} ${key}=${value}\n`;
}

function ustar(h: Header): Buffer {
  const buf = Buffer.alloc(block);
  // A name that needs PAX keeps a readable ASCII stand-in here; readers take the PAX one.
  const ascii = (text: string) => text.replace(/[^\x20-\x7e]/g, "_").slice(0, 100);
  buf.write(ascii(h.name), 0, "ascii");
  octal(buf, 100, 8, h.mode & 0o7777);
  octal(buf, 108, 8, 0); // uid
  octal(buf, 116, 8, 0); // gid
  octal(buf, 124, 12, h.size <= 0o77777777777 ? h.size : 0);
  octal(buf, 136, 12, 0); // mtime
  buf.write(h.type, 156, "ascii");
  if (h.linkname !== undefined) buf.write(ascii(h.linkname), 157, "ascii");
  buf.write("ustar\u000000", 257, "ascii"); // magic and version; uname and gname stay empty
  buf.fill(" ", 148, 156); // the checksum counts its own field as spaces
  let sum = 0;
  for (const byte of buf) sum += byte;
  buf.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, "ascii");
  return buf;
}

function octal(buf: Buffer, offset: number, width: number, value: number): void {
  buf.write(`${value.toString(8).padStart(width - 1, "0")}\u0000`, offset, "ascii");
}
