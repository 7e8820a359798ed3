/**
 * Writing into the output folder without following links: whatever lies in it was put there by
 * someone, and a link named like an image folder or a file of ours must not carry the Dockerfile,
 * build.sh or plan.json elsewhere. Folders are created one level at a time (Node's recursive
 * mkdir never returns for some paths, such as under /proc), and files are written to a new
 * temporary file (O_EXCL: never an existing one, nor a link) that is renamed over the old one
 * (a rename replaces a link; it does not write through it).
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";

/** What the output folder keeps between runs, under `.dockwright`: each must be a regular file. */
const cacheFiles = ["builds.jsonl", "last-compile.json", "stat-cache.json"];

/**
 * Creates the output folder and its `.dockwright` cache folder, or says why it cannot be used:
 * it is a file, it cannot be created, or what it holds is a link or a folder where a file of ours
 * belongs. OUT itself may be a link: the user named it.
 */
export async function prepareOutFolder(out: string): Promise<string | undefined> {
  const shown = JSON.stringify(out);
  try {
    await makeFolders(out);
    await folderIn(out, ".dockwright");
  } catch (e) {
    if (!(e instanceof OutputError)) throw e;
    return `cannot use the output folder ${shown}: ${e.message}. Choose another with --out.`;
  }
  for (const name of cacheFiles) {
    const file = path.join(out, ".dockwright", name);
    const found = await lstat(file).catch(() => undefined);
    if (found && !found.isFile()) {
      return `${JSON.stringify(file)} is ${found.isSymbolicLink() ? "a symbolic link" : "not a regular file"}; Dockwright keeps its own file there. Remove it.`;
    }
  }
  return undefined;
}

/** `mkdir -p` one level at a time, each level checked to be a folder once it exists. */
export async function makeFolders(folder: string): Promise<void> {
  const missing: string[] = [];
  let existing = path.resolve(folder);
  for (;;) {
    const found = await stat(existing).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? undefined : failure(existing)(e)));
    if (found) {
      if (!found.isDirectory()) throw new OutputError(`${JSON.stringify(existing)} is not a folder`);
      break;
    }
    missing.unshift(existing);
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  // EEXIST: another process made it meanwhile.
  for (const dir of missing) await mkdir(dir).catch((e: NodeJS.ErrnoException) => (e.code === "EEXIST" ? undefined : failure(dir)(e)));
}

/** The folder `name` in `parent`, created when missing; never a link. */
export async function folderIn(parent: string, name: string): Promise<string> {
  const folder = path.join(parent, name);
  await mkdir(folder).catch((e: NodeJS.ErrnoException) => (e.code === "EEXIST" ? undefined : failure(folder)(e)));
  const found = await lstat(folder);
  if (found.isSymbolicLink()) throw new OutputError(`${JSON.stringify(folder)} is a symbolic link, and Dockwright never writes through one; remove it`);
  if (!found.isDirectory()) throw new OutputError(`${JSON.stringify(folder)} is not a folder; remove it`);
  return folder;
}

/** Readers never see half a file, and a link or file already at the temporary name is never written through. */
export async function writeAtomically(file: string, contents: string | Uint8Array): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      await handle.writeFile(contents);
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (e) {
    await rm(temporary, { force: true });
    throw failure(file)(e as NodeJS.ErrnoException);
  }
}

/** Appends one whole line (O_APPEND: at the end, whoever else appends), never through a link. */
export async function appendLine(file: string, line: string): Promise<void> {
  const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW, 0o644).catch(failure(file));
  try {
    await handle.write(`${line}\n`);
  } finally {
    await handle.close();
  }
}

/** A reason the output cannot be written, naming the file; any other error is a bug. */
export class OutputError extends Error {}

function failure(file: string): (e: NodeJS.ErrnoException) => never {
  return (e) => {
    if (e instanceof OutputError) throw e;
    const reason = e.code === "ELOOP" ? "it is a symbolic link, and Dockwright never writes through one" : e.code === "EISDIR" ? "a folder stands there" : (e.code ?? e.message);
    throw new OutputError(`${JSON.stringify(file)} cannot be written (${reason})`);
  };
}
