/** Staging: the build context as a real folder, for builders that read one (`docker build DIR`). */
import { chmod, copyFile, mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import { constants } from "node:fs";
import path from "node:path";
import { codes, DiagnosticError, error } from "@dockwright/core/diagnostics";
import type { ContextEntry, GeneratedFile } from "@dockwright/core";
import { contextFiles } from "./files.js";

/**
 * Copies the snapshot's files from `root` and writes the generated files into `dest`, which must
 * be empty or absent (stale files would join the context). Modes are kept, folders of the snapshot
 * made (empty ones too) with their modes, other folders 0755 whatever the umask, links recreated
 * as links, files cloned where the file system can. With `writable`, every file and folder is also
 * readable and writable by anyone, as ZenML's `chmod -R a+rw .` leaves them in the image: copied
 * that way, the image's chmod step changes nothing and stores no file twice. A builder reading
 * `dest` applies a staged `.dockerignore` once more: that keeps every source file, but would drop
 * a generated file the patterns exclude, so give the builder its own ignore file (e.g.
 * `<Dockerfile>.dockerignore`).
 */
export async function stageContext(
  root: string,
  snapshot: { entries: readonly ContextEntry[] },
  generated: readonly GeneratedFile[],
  dest: string,
  options: { writable?: boolean } = {},
): Promise<void> {
  const files = contextFiles(snapshot.entries, generated);
  const extra = options.writable ? 0o666 : 0;
  await mkdir(dest, { recursive: true });
  if ((await readdir(dest)).length > 0) {
    throw new DiagnosticError([error(codes.INVALID_PATH, dest, `the staging folder ${JSON.stringify(dest)} is not empty; stale files would join the build context. Name an empty or new folder.`)]);
  }
  // Folder modes are set last, deepest first: a read-only folder must not stop what goes inside.
  const folders = new Map<string, number>();
  const folder = async (dir: string, mode: number) => {
    if (folders.has(dir)) return;
    await mkdir(dir, { recursive: true });
    for (let up = dir; up !== dest && !folders.has(up); up = path.dirname(up)) folders.set(up, 0o755 | extra);
    folders.set(dir, mode | extra);
  };
  for (const file of files) {
    const target = path.join(dest, file.path);
    if ("source" in file && file.source.type === "dir") {
      await folder(target, file.source.mode);
      continue;
    }
    await folder(path.dirname(target), 0o755);
    if ("contents" in file) {
      await writeFile(target, file.contents);
      await chmod(target, 0o644 | extra);
    } else if (file.source.type === "symlink") {
      await symlink(file.source.target ?? "", target);
    } else {
      await copyFile(path.join(root, file.path), target, constants.COPYFILE_FICLONE);
      await chmod(target, file.source.mode | extra);
    }
  }
  // Longest first: a folder below another is always the longer path.
  for (const [dir, mode] of [...folders].sort(([a], [b]) => b.length - a.length)) if (dir !== dest) await chmod(dir, mode);
}
