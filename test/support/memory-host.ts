/** An in-memory CompileHost for tests: files by relative path, a fixed context. */
import { sha256, type CompileHost, type ContextEntry, type ContextSnapshot } from "@dockwright/core";

export function memoryHost(files: Record<string, string> = {}, root = "/src"): CompileHost {
  return {
    root,
    async readFile(path) {
      return files[path.replace(/^\.\//, "")];
    },
    async context() {
      const entries: ContextEntry[] = Object.keys(files)
        .sort()
        .map((path) => ({ path, type: "file", size: Buffer.byteLength(files[path]!), mode: 0o644, sha256: sha256(files[path]!) }));
      const snapshot: ContextSnapshot = {
        entries,
        digest: sha256(JSON.stringify(entries)),
        totalSize: entries.reduce((sum, e) => sum + e.size, 0),
      };
      return { patterns: ["!.zen"], snapshot, diagnostics: [] };
    },
  };
}
