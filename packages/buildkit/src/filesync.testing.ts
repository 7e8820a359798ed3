/**
 * The tree of the recorded FileSync exchanges (testdata/filesync-*.json): written the same way by
 * the test that records against a real buildkitd and by the unit tests that replay the records.
 * Names that order differently bytewise and by path (`a/` and `a.b`), an empty folder, a link, a
 * hard link, an executable, a file of several chunks, and what the patterns exclude.
 */
import { chmodSync, linkSync, lutimesSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";

/** The patterns of the recorded `local://tree` source (LLB attrs, sent back as call metadata). */
export const treeFilter = { excludePatterns: ["ignored", "*.log", "!keep.log"], includePatterns: [], followPaths: [] };

/** Bytes of a file of one chunk and a bit (256 KiB + 1000), the same on every machine. */
export function bigContents(): Buffer {
  const bytes = Buffer.alloc(4 * 64 * 1024 + 1000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
  return bytes;
}

export function writeSyncTree(dir: string): void {
  const at = (rel: string) => path.join(dir, rel);
  for (const folder of ["a/sub", "bin", "empty", "ignored"]) mkdirSync(at(folder), { recursive: true });
  writeFileSync(at("a/x.txt"), "x\n");
  writeFileSync(at("a.b"), "a.b\n");
  writeFileSync(at("bin/run.sh"), "#!/bin/sh\necho run\n");
  chmodSync(at("bin/run.sh"), 0o755);
  writeFileSync(at("big.bin"), bigContents());
  chmodSync(at("empty"), 0o700);
  writeFileSync(at("ignored/file"), "never sent\n");
  writeFileSync(at("keep.log"), "kept\n");
  writeFileSync(at("drop.log"), "dropped\n");
  linkSync(at("a.b"), at("hard"));
  symlinkSync("a/x.txt", at("link"));
  // Fixed times, deepest first so that writing a folder's entries does not move its own.
  const time = 1_700_000_000.25;
  for (const rel of ["a/sub", "a/x.txt", "a.b", "bin/run.sh", "big.bin", "ignored/file", "keep.log", "drop.log", "a", "bin", "empty", "ignored", "."]) utimesSync(at(rel), time, time);
  lutimesSync(at("link"), time, time);
  utimesSync(dir, time, time);
}
