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
