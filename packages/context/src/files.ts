/** The files of a build context as archives and staging see them: sources plus generated files. */
import { codes, DiagnosticError, error } from "@dockwright/core/diagnostics";
import type { ContextEntry, GeneratedFile } from "@dockwright/core";
import { cleanPath } from "@dockwright/core/strings";
import { sortByPath } from "./paths.js";

export type ContextFile =
  | { path: string; source: ContextEntry }
  | { path: string; contents: Buffer };

/**
 * Sources and generated files in one sorted list. A generated file replaces a source file of the
 * same path and is there whatever the patterns say (a real reference-system bug: an allow-list
 * `.dockerignore` hid the requirements files). A generated path must be a clean relative path
 * that neither lies below a source file or link nor replaces a source folder.
 */
export function contextFiles(entries: readonly ContextEntry[], generated: readonly GeneratedFile[]): ContextFile[] {
  const files = new Map<string, ContextFile>(entries.map((source) => [source.path, { path: source.path, source }]));
  for (const file of generated) {
    checkGeneratedPath(file.path, files);
    files.set(file.path, { path: file.path, contents: Buffer.from(file.contents) });
  }
  return sortByPath([...files.values()]);
}

function checkGeneratedPath(file: string, files: Map<string, ContextFile>): void {
  const fail = (message: string) => new DiagnosticError([error(codes.INVALID_PATH, file, message)]);
  if (cleanPath(file) !== file || file === "." || file === ".." || file.startsWith("../") || file.startsWith("/")) {
    throw fail(`the generated file path ${JSON.stringify(file)} is not a clean relative path inside the build context.`);
  }
  const collision = (other: string) =>
    fail(`the generated file ${JSON.stringify(file)} collides with ${JSON.stringify(other)} (a path cannot be a file and a folder). Rename or exclude ${JSON.stringify(other)}.`);
  const isFolder = (known: ContextFile | undefined) => known !== undefined && "source" in known && known.source.type === "dir";
  for (let slash = file.indexOf("/"); slash >= 0; slash = file.indexOf("/", slash + 1)) {
    const above = files.get(file.slice(0, slash));
    if (above && !isFolder(above)) throw collision(file.slice(0, slash));
  }
  if (isFolder(files.get(file))) throw collision(`${file}/`);
  for (const other of files.keys()) if (other.startsWith(`${file}/`)) throw collision(other);
}
