/** What the tests compare between images: the config and file trees. */
import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import path from "node:path";

/** The config fields a build sets, as both `buildah inspect` and `docker inspect` name them. */
export type ConfigView = {
  Env: string[];
  WorkingDir: string;
  User: string;
  Entrypoint: string[] | null;
  Cmd: string[] | null;
  Labels: Record<string, string>;
};

/** Buildah stamps its version on every image it commits; Docker does not. */
const builderLabels = new Set(["io.buildah.version"]);

export function normalizeConfig(config: Record<string, unknown>): ConfigView {
  const list = (value: unknown) => (Array.isArray(value) ? (value as string[]) : null);
  const labels = Object.entries((config["Labels"] ?? {}) as Record<string, string>)
    .filter(([name]) => !builderLabels.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    Env: list(config["Env"]) ?? [],
    WorkingDir: (config["WorkingDir"] as string | undefined) ?? "",
    User: (config["User"] as string | undefined) ?? "",
    Entrypoint: list(config["Entrypoint"]),
    Cmd: list(config["Cmd"]),
    Labels: Object.fromEntries(labels),
  };
}

export type TreeEntry = {
  path: string;
  type: "dir" | "file" | "symlink";
  mode: string;
  owner: string;
  /** sha256 of a file, target of a link. */
  content?: string;
  /** Bytes of a file. */
  size?: number;
};

/** Every entry under `dir` (itself as "."), sorted: paths, types, modes, owners, contents. */
export async function fileTree(dir: string): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  async function visit(rel: string): Promise<void> {
    const full = path.join(dir, rel);
    const stat = await lstat(full);
    const base = { path: rel, mode: (stat.mode & 0o7777).toString(8), owner: `${stat.uid}:${stat.gid}` };
    if (stat.isSymbolicLink()) entries.push({ ...base, type: "symlink", content: await readlink(full) });
    else if (stat.isFile()) entries.push({ ...base, type: "file", size: stat.size, content: createHash("sha256").update(await readFile(full)).digest("hex") });
    else if (stat.isDirectory()) {
      entries.push({ ...base, type: "dir" });
      for (const name of (await readdir(full)).sort()) await visit(rel === "." ? name : `${rel}/${name}`);
    }
  }
  await visit(".");
  return entries;
}

/** The files of a folder by path: text, for the stand-ins' records. */
export async function textFiles(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await fileTree(dir).catch(() => [])) {
    if (entry.type === "file") files[entry.path] = await readFile(path.join(dir, entry.path), "utf8");
  }
  return files;
}
