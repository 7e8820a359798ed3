/**
 * Reading a file that a user names: only a regular file, at most a given size, and never by
 * blocking. Opening a FIFO waits for a writer forever and `/dev/zero` never ends, so the file is
 * opened without blocking, checked on its open descriptor, and read no further than the limit.
 */
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { codes, DiagnosticError, error } from "@dockwright/core/diagnostics";

/** The files users name (requirements, Dockerfiles, ignore files) are kilobytes; this is far beyond any real one. */
const defaultMaxBytes = 16 * 1024 * 1024;

export type ReadOptions = {
  /** The most bytes the file may hold (default 16 MiB). */
  maxBytes?: number;
  /** Names the file in messages, e.g. `the requirements file "deps.txt"`. */
  what: string;
  /** The diagnostic's path: the setting that names the file, or the file. */
  path: string;
};

/** The bytes of a regular file; a `DiagnosticError` (INVALID_PATH) for anything else, or when it cannot be read. */
export async function readRegularFile(file: string, options: ReadOptions): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? defaultMaxBytes;
  const fail = (reason: string) => new DiagnosticError([error(codes.INVALID_PATH, options.path, `${options.what} ${reason}`)]);
  let handle;
  try {
    // O_NONBLOCK: a FIFO opens at once instead of waiting for a writer; it changes nothing for a regular file.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    throw fail(`cannot be read (${describeError(e)}). Name a readable file.`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw fail("is not a regular file (a folder, FIFO, socket or device). Name a file.");
    if (stat.size > maxBytes) throw fail(`holds ${stat.size} bytes, more than the ${maxBytes} Dockwright reads. Name the right file.`);
    // The file may grow after the check: read one byte past the limit to notice.
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n) {
      n = (await handle.read(buffer, length, buffer.length - length, null)).bytesRead;
    }
    if (length > maxBytes) throw fail(`grew beyond the ${maxBytes} bytes Dockwright reads while it was read.`);
    return buffer.subarray(0, length);
  } catch (e) {
    if (e instanceof DiagnosticError) throw e;
    throw fail(`cannot be read (${describeError(e)}). Name a readable file.`);
  } finally {
    await handle.close();
  }
}

/** An error of the file system in words, for messages. */
export function describeError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ELOOP: "its path runs into a loop of symbolic links, or more than 40 in a row",
    ENOTDIR: "a part of its path is a file, not a folder",
    ENAMETOOLONG: "its path or a name in it is longer than the file system allows",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EISDIR: "it is a folder",
    ENXIO: "it is a socket or a device without a driver",
    ERR_INVALID_ARG_VALUE: "its path holds a NUL character",
    ERR_INVALID_ARG_TYPE: "its path holds a NUL character",
  };
  return (code !== undefined && Object.hasOwn(reasons, code) ? reasons[code] : undefined) ?? code ?? String(e);
}
