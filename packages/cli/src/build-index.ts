/**
 * The build index: which image checksums were built here, and pushed with which digest. A record
 * of what happened, never the truth about what exists: `dockwright build` asks the registry and
 * the builder's store. One JSON record per line, each appended with a single write: concurrent
 * runs add lines without rewriting each other's, and a torn last line (a crash mid-write) is
 * skipped on reading.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { appendLine, makeFolders } from "./out-folder.js";

export type BuildRecord = { checksum: string; tag: string; builder: string; digest?: string };

export function indexFile(out: string): string {
  return path.join(out, ".dockwright", "builds.jsonl");
}

export async function readBuildIndex(file: string): Promise<Map<string, BuildRecord>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw e;
  }
  const builds = new Map<string, BuildRecord>();
  for (const line of text.split("\n")) {
    const record = parseRecord(line);
    if (record) builds.set(record.checksum, record);
  }
  return builds;
}

function parseRecord(line: string): BuildRecord | undefined {
  try {
    const value = JSON.parse(line) as Partial<BuildRecord>;
    if (typeof value.checksum === "string" && typeof value.tag === "string" && typeof value.builder === "string") {
      return { checksum: value.checksum, tag: value.tag, builder: value.builder, ...(typeof value.digest === "string" ? { digest: value.digest } : {}) };
    }
  } catch {
    // A torn or foreign line: not a record.
  }
  return undefined;
}

/**
 * Adds the record, unless `known` (the index as this run read it, kept up to date here) already
 * holds it for its checksum: a rebuild or reuse of the same result adds no line.
 */
export async function recordBuild(file: string, record: BuildRecord, known: Map<string, BuildRecord>): Promise<void> {
  const held = known.get(record.checksum);
  if (held?.tag === record.tag && held.builder === record.builder && held.digest === record.digest) return;
  known.set(record.checksum, record);
  await makeFolders(path.dirname(file));
  await appendLine(file, JSON.stringify(record));
}
