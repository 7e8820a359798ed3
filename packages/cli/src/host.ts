/**
 * The file system side of a compile: reads files named by settings (absolute, or relative to
 * `base`, the configuration file's folder, as ZenML reads them relative to its working
 * directory), computes build contexts and writes the code archive. Core asks; this answers.
 */
import { isUtf8 } from "node:buffer";
import { copyFile, mkdir, realpath, rename, stat } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describeError, readRegularFile, writeCodeArchive, type Progress } from "@dockwright/context";
import { codes, DiagnosticError, error, type CompileHost } from "@dockwright/core";
import { snapshotContext } from "./context.js";
import { inside } from "./paths.js";

export type HostOptions = {
  /** Absolute source root. */
  root: string;
  /** Absolute folder relative settings paths start at (default: the source root). */
  base?: string;
  /** Absolute output folder; excluded from the context when it lies inside the root. */
  out: string;
  /** Called about every 50 ms during a long walk of the build context. */
  onProgress?: (progress: Progress) => void;
  /** Absolute folder the code archive is uploaded to (a mounted artifact store, a synced folder). */
  codeUpload?: string;
};

export async function nodeHost({ root, base = root, out, onProgress, codeUpload }: HostOptions): Promise<CompileHost> {
  const realRoot = await realpath(root);
  const contexts = new Map<string, ReturnType<CompileHost["context"]>>();
  let archive: ReturnType<NonNullable<CompileHost["codeArchive"]>> | undefined;

  /**
   * The real path of a file a setting names, when it exists. Any other reason it cannot be
   * resolved (a loop of links, a name too long, a file where a folder belongs, a NUL) is the
   * setting's error.
   */
  async function resolveReal(file: string, settingPath: string): Promise<string | undefined> {
    try {
      return await realpath(path.resolve(base, file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new DiagnosticError([
        error(codes.INVALID_PATH, settingPath, `${JSON.stringify(file)} cannot be found: ${describeError(e)}. Fix the path (relative paths start at ${JSON.stringify(base)}).`),
      ]);
    }
  }

  return {
    root: realRoot,
    base,
    resolve: (file) => path.resolve(base, file),
    async readFile(file, settingPath) {
      // Settings may name files anywhere, as in ZenML; what they hold becomes a generated file.
      const real = await resolveReal(file, settingPath);
      if (real === undefined) return undefined;
      const bytes = await readRegularFile(real, { what: JSON.stringify(file), path: settingPath });
      // Decoding would turn invalid bytes into U+FFFD: the image would get another file than the one named.
      if (!isUtf8(bytes)) throw new DiagnosticError([error(codes.INVALID_PATH, settingPath, `${JSON.stringify(file)} is not UTF-8 text. Save it as UTF-8.`)]);
      return bytes.toString("utf8");
    },
    async folder(dir, settingPath) {
      const real = await resolveReal(dir, settingPath);
      if (real === undefined) return false;
      if (!(await stat(real)).isDirectory()) {
        throw new DiagnosticError([error(codes.INVALID_PATH, settingPath, `${JSON.stringify(dir)} is not a folder. Name a folder of the source root.`)]);
      }
      return true;
    },
    context(dockerignore, settingPath) {
      // Every image of a compile shares the walk of the same context.
      const key = dockerignore ?? "";
      let pending = contexts.get(key);
      if (!pending) {
        pending = (async () => {
          const explicit = dockerignore === undefined ? undefined : await resolveReal(dockerignore, settingPath);
          if (dockerignore !== undefined && explicit === undefined) {
            throw new DiagnosticError([
              error(codes.FILE_NOT_FOUND, settingPath, `the .dockerignore file ${JSON.stringify(path.resolve(base, dockerignore))} does not exist. Fix the path (relative paths start at ${JSON.stringify(base)}).`),
            ]);
          }
          return snapshotContext({ root: realRoot, out, onProgress, ...(explicit ? { dockerignore: explicit } : {}) });
        })();
        contexts.set(key, pending);
      }
      return pending;
    },
    codeArchive() {
      // One archive per compile, shared by every image whose code comes from the artifact store.
      archive ??= (async () => {
        await mkdir(out, { recursive: true });
        const outInRoot = inside(realRoot, await realpath(out));
        const { file, sha256, diagnostics } = await writeCodeArchive({ root: realRoot, out, exclude: outInRoot === undefined ? [] : [outInRoot] });
        return { path: path.relative(out, file).split(path.sep).join("/"), sha256, diagnostics };
      })();
      return archive;
    },
    ...(codeUpload !== undefined ? { uploadCode: (packed: { path: string }) => uploadCode(path.join(out, packed.path), codeUpload) } : {}),
  };
}

/**
 * Copies the archive into `folder` under its own name, which holds its digest: an archive
 * already there is the same code and stays. Written beside its final name, then renamed, so a
 * run never downloads half an archive.
 */
async function uploadCode(file: string, folder: string): Promise<{ location: string }> {
  const dest = path.join(folder, path.basename(file));
  if (!(await stat(dest).catch(() => undefined))?.isFile()) {
    await mkdir(folder, { recursive: true });
    const partial = `${dest}.${process.pid}.partial`;
    await copyFile(file, partial);
    await rename(partial, dest);
  }
  return { location: pathToFileURL(dest).href };
}
