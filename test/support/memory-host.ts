/** An in-memory CompileHost for tests: files by path relative to the root, a fixed context. */
import { sha256, type CompileHost, type ContextEntry, type ContextSnapshot } from "@dockwright/core";

export function memoryHost(files: Record<string, string> = {}, root = "/src"): CompileHost {
  const relative = (path: string) => (path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path.replace(/^\.\//, ""));
  return {
    root,
    base: root,
    resolve: (path) => (path.startsWith("/") ? path : `${root}/${relative(path)}`),
    async readFile(path) {
      return files[relative(path)];
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
