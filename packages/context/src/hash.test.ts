/** Hashing, the digest, and the stat cache. */
import { createHash } from "node:crypto";
import fs from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { describe, expect, onTestFinished, test, vi } from "vitest";
import { hashContext, loadStatCache, saveStatCache, snapshotDigest, type StatCache } from "./hash.js";
import { makeTree } from "./tree.testing.js";
import { walkContext } from "./walk.js";

const sha = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;
const snapshot = async (root: string, cache?: StatCache) => hashContext(await walkContext(root), cache ? { cache } : {});

/** Sets every file's mtime a minute back, out of the racy window, as an older checkout would be. */
function age(root: string): void {
  const past = new Date(Date.now() - 60_000);
  for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) fs.utimesSync(path.join(entry.parentPath, entry.name), past, past);
  }
}

function countOpens(): { count: number } {
  const counter = { count: 0 };
  const open = fs.openSync;
  const spy = vi.spyOn(fs, "openSync").mockImplementation(((...args: Parameters<typeof fs.openSync>) => {
    counter.count++;
    return open(...args);
  }) as typeof fs.openSync);
  onTestFinished(() => spy.mockRestore());
  return counter;
}

describe("hashContext", () => {
  test("hashes every file (streamed, larger than one chunk too), keeps link targets", async () => {
    const big = "x".repeat(3 * 1024 * 1024 + 7);
    const root = makeTree({ files: { "a.txt": "hello", "big.bin": big }, symlinks: { link: "a.txt" } });
    const result = await snapshot(root);
    expect(result.entries).toEqual([
      { path: "a.txt", type: "file", size: 5, mode: 0o644, sha256: sha("hello") },
      { path: "big.bin", type: "file", size: big.length, mode: 0o644, sha256: sha(big) },
      { path: "link", type: "symlink", size: 0, mode: 0o777, target: "a.txt" },
    ]);
    expect(result.totalSize).toBe(5 + big.length);
    expect(result.digest).toBe(snapshotDigest(result.entries));
    expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test("folders are entries without contents; an empty one, or a folder's mode, changes the digest", async () => {
    const spec = { files: { "a/b.txt": "one" } };
    const first = await snapshot(makeTree(spec));
    expect(first.entries).toEqual([
      { path: "a", type: "dir", size: 0, mode: 0o755 },
      { path: "a/b.txt", type: "file", size: 3, mode: 0o644, sha256: sha("one") },
    ]);
    expect((await snapshot(makeTree({ ...spec, dirs: ["data"] }))).digest).not.toBe(first.digest);
    const chmodded = makeTree(spec);
    fs.chmodSync(path.join(chmodded, "a"), 0o700);
    expect((await snapshot(chmodded)).digest).not.toBe(first.digest);
    expect((await snapshot(makeTree(spec))).digest).toBe(first.digest);
  });

  test("the digest ignores times and location, and follows contents, modes and link targets", async () => {
    const spec = { files: { "a.txt": "one", "b/c.txt": "two" }, symlinks: { l: "a.txt" } };
    const first = await snapshot(makeTree(spec));
    const elsewhere = makeTree(spec);
    age(elsewhere);
    expect((await snapshot(elsewhere)).digest).toBe(first.digest);

    const changed = makeTree(spec);
    fs.writeFileSync(path.join(changed, "a.txt"), "ONE");
    expect((await snapshot(changed)).digest).not.toBe(first.digest);
    const chmodded = makeTree(spec);
    fs.chmodSync(path.join(chmodded, "a.txt"), 0o600);
    expect((await snapshot(chmodded)).digest).not.toBe(first.digest);
    const relinked = makeTree({ ...spec, symlinks: { l: "b/c.txt" } });
    expect((await snapshot(relinked)).digest).not.toBe(first.digest);
  });

  test("an unreadable file is CONTEXT_UNREADABLE", async () => {
    const root = makeTree({ files: ["a", "b"] });
    const open = fs.openSync;
    const spy = vi.spyOn(fs, "openSync").mockImplementation(((file: fs.PathLike, ...rest: [never]) => {
      if (String(file).endsWith("/b")) throw Object.assign(new Error("EACCES"), { code: "EACCES" });
      return open(file, ...rest);
    }) as typeof fs.openSync);
    onTestFinished(() => spy.mockRestore());
    await expect(snapshot(root)).rejects.toMatchObject({ diagnostics: [{ code: "CONTEXT_UNREADABLE", path: "b" }] });
  });

  test.skipIf(availableParallelism() < 2)("a large context is hashed on worker threads too, to the same hashes", async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 5; i++) files[`big/${i}.bin`] = Buffer.alloc(8 * 1024 * 1024 + i, i + 1); // 40 MiB in all
    for (let i = 0; i < 20; i++) files[`small/${i}.txt`] = Buffer.from(`file ${i}`);
    const root = makeTree({ files });
    const opens = countOpens(); // this thread's opens only
    const result = await snapshot(root);
    expect(result.entries.filter((e) => e.type === "file").map((e) => [e.path, e.sha256])).toEqual(
      Object.keys(files).sort().map((file) => [file, sha(files[file]!.toString("latin1"))]),
    );
    expect(opens.count).toBeGreaterThan(0);
    expect(opens.count).toBeLessThan(Object.keys(files).length);
  });

  test("a file gone since the walk is left out, as BuildKit leaves it", async () => {
    const root = makeTree({ files: ["a", "b"] });
    const walk = await walkContext(root);
    fs.rmSync(path.join(root, "b"));
    expect((await hashContext(walk)).entries.map((e) => e.path)).toEqual(["a"]);
  });
});

describe("the stat cache", () => {
  test("an unchanged tree is re-hashed without reading a file", async () => {
    const root = makeTree({ files: ["a", "b/c", "d"] });
    age(root);
    const cache: StatCache = new Map();
    const first = await snapshot(root, cache);
    expect(cache.size).toBe(3);

    const opens = countOpens();
    expect(await snapshot(root, cache)).toEqual(first);
    expect(opens.count).toBe(0);
  });

  test("it trusts size, mtime and inode: new contents behind the same stat are not read", async () => {
    const root = makeTree({ files: { a: "old" } });
    age(root);
    const cache: StatCache = new Map();
    const before = await snapshot(root, cache);
    const file = path.join(root, "a");
    const { mtime, atime } = fs.statSync(file);
    fs.writeFileSync(file, "new"); // same size, same inode
    fs.utimesSync(file, atime, mtime);
    expect((await snapshot(root, cache)).entries[0]?.sha256).toBe(before.entries[0]?.sha256); // proof nothing was read

    fs.utimesSync(file, atime, new Date(mtime.getTime() - 1000)); // any stat change: read again
    expect((await snapshot(root, cache)).entries[0]?.sha256).toBe(sha("new"));
  });

  test("files modified within the last two seconds are not cached (racy git)", async () => {
    const root = makeTree({ files: ["fresh"] });
    const cache: StatCache = new Map();
    await snapshot(root, cache);
    expect(cache.size).toBe(0);
  });

  test("entries of files no longer in the context are dropped", async () => {
    const root = makeTree({ files: ["a", "b"] });
    age(root);
    const cache: StatCache = new Map();
    await snapshot(root, cache);
    fs.rmSync(path.join(root, "b"));
    await snapshot(root, cache);
    expect([...cache.keys()]).toEqual(["a"]);
  });

  test("saves atomically and loads back, odd paths included", async () => {
    const dir = makeTree({});
    const file = path.join(dir, "cache/stat.json");
    const cache: StatCache = new Map([
      ["__proto__", { size: 1, mtimeMs: 1.5, ino: 7, sha256: "sha256:aa" }],
      ["a/b\nc", { size: 2, mtimeMs: 1700000000123.4567, ino: 8, sha256: "sha256:bb" }],
    ]);
    await saveStatCache(file, cache);
    expect(fs.readdirSync(path.dirname(file))).toEqual(["stat.json"]); // no temporary file left
    expect(await loadStatCache(file)).toEqual(cache);
  });

  test("a missing, corrupt or foreign cache file loads as empty", async () => {
    const dir = makeTree({ files: { "bad.json": "{not json", "old.json": '{"version":0,"files":{}}', "odd.json": '{"version":1,"files":{"a":[1,2]}}' } });
    for (const name of ["missing.json", "bad.json", "old.json", "odd.json"]) {
      expect((await loadStatCache(path.join(dir, name))).size).toBe(0);
    }
  });
});
