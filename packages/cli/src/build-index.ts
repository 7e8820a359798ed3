/**
 * The build index: which image checksums were built, so unchanged images are reused. One JSON
 * record per line, each appended with a single write: concurrent runs add lines without
 * rewriting each other's, and a torn last line (a crash mid-write) is skipped on reading.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { appendLine, makeFolders } from "./out-folder.js";

export type BuildRecord = { checksum: string; tag: string; builder: string };

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
      return { checksum: value.checksum, tag: value.tag, builder: value.builder };
    }
  } catch {
    // A torn or foreign line: not a record.
  }
  return undefined;
}

export async function recordBuild(file: string, record: BuildRecord): Promise<void> {
  await makeFolders(path.dirname(file));
  await appendLine(file, JSON.stringify(record));
}
