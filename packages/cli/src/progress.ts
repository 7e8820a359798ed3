/**
 * Progress on standard error, only when it is a terminal: a line redrawn in place during a long
 * walk of the build context, once it has taken half a second.
 */
import { formatBytes, type Progress } from "@dockwright/context";
import type { Io } from "./io.js";

export type ProgressLine = { update: (progress: Progress) => void; done: () => void };

export function progressLine(io: Io): ProgressLine {
  const started = performance.now();
  let shown = false;
  return {
    update(progress) {
      if (!io.stderrIsTTY || performance.now() - started < 500) return;
      shown = true;
      io.stderr(`\r\x1b[Kdockwright: reading the build context: ${progress.files} files, ${formatBytes(progress.bytes)}`);
    },
    done() {
      if (shown) io.stderr("\r\x1b[K");
      shown = false;
    },
  };
}

/**
 * Writes text line by line, each line after `prefix` (`[key] `), so that the output of images
 * built at once stays readable; `flush` writes a last unfinished line.
 */
export function prefixedLines(prefix: string, write: (text: string) => void): { write: (text: string) => void; flush: () => void } {
  let pending = "";
  return {
    write(text) {
      const lines = (pending + text).split("\n");
      pending = lines.pop()!;
      if (lines.length > 0) write(lines.map((line) => `${prefix}${line}\n`).join(""));
    },
    flush() {
      if (pending) write(`${prefix}${pending}\n`);
      pending = "";
    },
  };
}
