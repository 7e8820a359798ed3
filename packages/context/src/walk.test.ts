/** The walk: entries, links, pruning, unreadable folders, odd names, special files. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { DiagnosticError } from "@dockwright/core";
import { describe, expect, onTestFinished, test, vi } from "vitest";
import { parseDockerignore } from "./dockerignore.js";
import { makeTree } from "./tree.testing.js";
import { listContext, walkContext } from "./walk.js";

/** The files and links the walk sends. */
const paths = async (root: string, dockerignore = "") =>
  (await walkContext(root, { patterns: parseDockerignore(dockerignore) })).entries.filter((e) => e.type !== "dir").map((e) => e.path);
/** The folders it sends. */
const folders = async (root: string, dockerignore = "") =>
  (await walkContext(root, { patterns: parseDockerignore(dockerignore) })).entries.filter((e) => e.type === "dir").map((e) => e.path);

/** Makes readdir fail with `code` for one folder, as it would for a user without permission. */
function failReaddir(folder: string, code = "EACCES"): void {
  const readdir = fs.readdirSync;
  const spy = vi.spyOn(fs, "readdirSync").mockImplementation(((dir: fs.PathLike, options?: unknown) => {
    if (String(dir) === folder) throw Object.assign(new Error(`${code}: permission denied, scandir '${folder}'`), { code });
    return readdir(dir, options as never);
  }) as typeof fs.readdirSync);
  onTestFinished(() => spy.mockRestore());
}

/** The folders the walk reads, relative to `root`. */
function recordReads(root: string): string[] {
  const reads: string[] = [];
  const readdir = fs.readdirSync;
  const spy = vi.spyOn(fs, "readdirSync").mockImplementation(((dir: fs.PathLike, options?: unknown) => {
    reads.push(path.relative(root, String(dir)) || ".");
    return readdir(dir, options as never);
  }) as typeof fs.readdirSync);
  onTestFinished(() => spy.mockRestore());
  return reads;
}

describe("entries", () => {
  test("files carry size and permission bits; links their target; folders their mode; all sorted", async () => {
    const root = makeTree({ files: { "b/x.sh": "#!/bin/sh\n", "a.txt": "hello" }, symlinks: { "c": "a.txt" } });
    fs.chmodSync(path.join(root, "b/x.sh"), 0o750);
    fs.chmodSync(path.join(root, "b"), 0o710);
    const walk = await walkContext(root);
    expect(walk.entries.map(({ mtimeMs, ino, ...rest }) => rest)).toEqual([
      { path: "a.txt", type: "file", size: 5, mode: 0o644 },
      { path: "b", type: "dir", size: 0, mode: 0o710 },
      { path: "b/x.sh", type: "file", size: 10, mode: 0o750 },
      { path: "c", type: "symlink", size: 0, mode: 0o777, target: "a.txt" },
    ]);
    expect(walk.totalSize).toBe(15);
    expect(walk.root).toBe(root);
  });

  test("paths sort in UTF-8 byte order, not UTF-16 order, and / after - and .", async () => {
    const root = makeTree({ files: ["a/x", "a-b", "a.txt", "\ue000", "\u{1f600}", "Z", "é"] });
    // UTF-16 would put U+1F600 (a surrogate pair) before U+E000
    expect(await paths(root)).toEqual(["Z", "a-b", "a.txt", "a/x", "é", "\ue000", "\u{1f600}"]);
  });

  test("empty folders are sent, as COPY . . creates them, unless excluded", async () => {
    expect(await folders(makeTree({ dirs: ["empty", "deep/er/est"] }))).toEqual(["deep", "deep/er", "deep/er/est", "empty"]);
    const root = makeTree({ files: ["a/f"], dirs: ["a/empty", "b"] });
    expect(await paths(root, "b\n")).toEqual(["a/f"]);
    expect(await folders(root, "b\n")).toEqual(["a", "a/empty"]);
  });

  test("a folder whose files are all excluded is sent; an excluded folder is not", async () => {
    const root = makeTree({ files: ["app.py", "data/a.csv", "data/b.csv"] });
    expect(await folders(root, "data/*\n")).toEqual(["data"]);
    expect(await folders(root, "**/*.csv\n")).toEqual(["data"]);
    expect(await folders(root, "data\n")).toEqual([]);
  });

  test("an excluded folder is sent when it holds something re-included, as BuildKit sends parents", async () => {
    const root = makeTree({ files: ["data/keep.txt", "data/x/drop.txt"], dirs: ["data/empty"] });
    expect(await folders(root, "data\n!data/keep.txt\n")).toEqual(["data"]);
    expect(await folders(root, "*\n!**/*.txt\n")).toEqual(["data", "data/x"]);
  });

  test("the root must exist and be a folder", async () => {
    const root = makeTree({ files: ["f"] });
    await expect(walkContext(path.join(root, "missing"))).rejects.toMatchObject({ diagnostics: [{ code: "FILE_NOT_FOUND" }] });
    await expect(walkContext(path.join(root, "f"))).rejects.toMatchObject({ diagnostics: [{ code: "INVALID_PATH" }] });
  });

  test("Dockerfile and .dockerignore are ordinary entries, excluded when a pattern says so", async () => {
    const root = makeTree({ files: ["Dockerfile", "app.py"], dockerignore: "Dockerfile\n.dockerignore\n" });
    expect(await paths(root, "Dockerfile\n.dockerignore\n")).toEqual(["app.py"]);
  });
});

describe("symbolic links are listed, never followed", () => {
  test("loops, self links, dangling links and links out of the root", async () => {
    const root = makeTree({
      files: ["d/f"],
      symlinks: { "loop": ".", "d/up": "..", "a": "b", "b": "a", "self": "self", "dangling": "nowhere", "out": "/etc" },
    });
    const walk = await walkContext(root);
    expect(walk.entries.map((e) => [e.path, e.type, e.target])).toEqual([
      ["a", "symlink", "b"],
      ["b", "symlink", "a"],
      ["d", "dir", undefined],
      ["d/f", "file", undefined],
      ["d/up", "symlink", ".."],
      ["dangling", "symlink", "nowhere"],
      ["loop", "symlink", "."],
      ["out", "symlink", "/etc"],
      ["self", "symlink", "self"],
    ]);
  });

  test("a link to an excluded folder is still sent; a link matched by a pattern is not", async () => {
    const root = makeTree({ files: ["node_modules/x/index.js"], symlinks: { "nm": "node_modules", "skip-me": "node_modules" } });
    expect(await paths(root, "node_modules\nskip-me\n")).toEqual(["nm"]);
  });
});

describe("pruning", () => {
  test("excluded folders are never read when no exception can reach inside", async () => {
    const root = makeTree({ files: ["node_modules/a/b.js", ".git/HEAD", "src/a.py", "docs/x.md", "docs/keep.md"] });
    const reads = recordReads(root);
    expect(await paths(root, "node_modules\n.git\ndocs\n!docs/keep.md\n")).toEqual(["docs/keep.md", "src/a.py"]);
    expect(reads.sort()).toEqual([".", "docs", "src"]);
  });

  test("a wildcard exception makes the walk enter excluded folders", async () => {
    const root = makeTree({ files: ["sub/x.py", "sub/y.txt", "node_modules/m.py", "top.txt"] });
    const reads = recordReads(root);
    expect(await paths(root, "*\n!**/*.py\n")).toEqual(["node_modules/m.py", "sub/x.py"]);
    expect(reads.sort()).toEqual([".", "node_modules", "sub"]);
  });
});

describe("unreadable folders: a clear error, nothing silently lost", () => {
  // Tests run as root, which chmod 000 does not stop, so readdir is made to fail the way it
  // fails for an ordinary user (the real thing is tested below when not root).
  test("an unreadable folder that would be sent is CONTEXT_UNREADABLE naming it", async () => {
    const root = makeTree({ files: ["ok/a", "secret/b"] });
    failReaddir(path.join(root, "secret"));
    const error = await walkContext(root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiagnosticError);
    expect((error as DiagnosticError).diagnostics[0]).toMatchObject({ code: "CONTEXT_UNREADABLE", path: "secret" });
    expect((error as DiagnosticError).message).toMatch(/EACCES/);
  });

  test("an unreadable folder that is excluded is no problem, pruned or walked", async () => {
    const root = makeTree({ files: ["ok/a.py", "cache/b.py"] });
    failReaddir(path.join(root, "cache"));
    expect(await paths(root, "cache\n")).toEqual(["ok/a.py"]);
    expect(await paths(root, "cache\n!**/*.txt\n")).toEqual(["ok/a.py"]); // walked, as BuildKit does, and skipped
  });

  test("other read errors are fatal even in excluded folders", async () => {
    const root = makeTree({ files: ["cache/b.py"] });
    failReaddir(path.join(root, "cache"), "EIO");
    await expect(paths(root, "cache\n!**/*.txt\n")).rejects.toMatchObject({ diagnostics: [{ code: "CONTEXT_UNREADABLE" }] });
  });

  test.skipIf(process.getuid?.() === 0)("a real chmod 000 folder (skipped as root: root reads it anyway)", async () => {
    const root = makeTree({ files: ["locked/a"] });
    fs.chmodSync(path.join(root, "locked"), 0);
    onTestFinished(() => fs.chmodSync(path.join(root, "locked"), 0o755));
    await expect(walkContext(root)).rejects.toMatchObject({ diagnostics: [{ code: "CONTEXT_UNREADABLE", path: "locked" }] });
  });
});

describe("names that are not valid UTF-8", () => {
  const latin1 = (root: string, ...parts: string[]) => Buffer.concat([Buffer.from(`${root}/`), ...parts.map((p) => Buffer.from(p, "latin1"))]);

  test("one that would be sent is INVALID_PATH showing its bytes", async () => {
    const root = makeTree({ files: ["ok.txt"] });
    fs.writeFileSync(latin1(root, "caf\xe9.txt"), "x");
    await expect(walkContext(root)).rejects.toMatchObject({ diagnostics: [{ code: "INVALID_PATH", path: "caf\\xe9.txt" }] });
  });

  test("one that is excluded is fine, matched by its decoded name", async () => {
    const root = makeTree({ files: ["ok.txt"] });
    fs.writeFileSync(latin1(root, "caf\xe9.txt"), "x");
    fs.mkdirSync(latin1(root, "d\xfcr"));
    fs.writeFileSync(latin1(root, "d\xfcr/", "inner"), "x");
    expect(await paths(root, "caf?.txt\nd*r\n")).toEqual(["ok.txt"]);
  });

  test("a folder the walk must enter is INVALID_PATH even when excluded", async () => {
    const root = makeTree({ files: ["ok.txt"] });
    fs.mkdirSync(latin1(root, "d\xfcr"));
    await expect(paths(root, "d*r\n!**/*.py\n")).rejects.toMatchObject({ diagnostics: [{ code: "INVALID_PATH", path: "d\\xfcr" }] });
  });

  test("a real U+FFFD in a valid name is an ordinary name", async () => {
    expect(await paths(makeTree({ files: ["a\ufffd.txt"] }))).toEqual(["a\ufffd.txt"]);
  });

  test("a link target that is not UTF-8 is INVALID_PATH", async () => {
    const root = makeTree({});
    fs.symlinkSync(Buffer.from("caf\xe9", "latin1"), path.join(root, "link"));
    await expect(walkContext(root)).rejects.toMatchObject({ diagnostics: [{ code: "INVALID_PATH", path: "link -> caf\\xe9" }] });
  });
});

describe("special files", () => {
  test("FIFOs and sockets are left out and reported", async () => {
    const root = makeTree({ files: ["a"] });
    execFileSync("mkfifo", [path.join(root, "fifo")]);
    const server = net.createServer().listen(path.join(root, "sock"));
    await new Promise((resolve) => server.once("listening", resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const walk = await walkContext(root);
    expect(walk.entries.map((e) => e.path)).toEqual(["a"]);
    expect(walk.special).toEqual(["fifo", "sock"]);
    expect((await listContext(root)).special).toEqual(["fifo", "sock"]);
  });

  test("a file replaced by a FIFO while the walk reads sizes is reported in the same order as the listing's", async () => {
    const root = makeTree({ files: ["b", "z"] });
    fs.writeFileSync(path.join(root, "a"), "x");
    execFileSync("mkfifo", [path.join(root, "m")]);
    let now = 0;
    const spy = vi.spyOn(performance, "now").mockImplementation(() => (now += 100)); // progress after every entry
    onTestFinished(() => spy.mockRestore());
    const replaceB = () => {
      fs.rmSync(path.join(root, "b"));
      execFileSync("mkfifo", [path.join(root, "b")]);
    };
    // The listing reports no bytes; once "a" is read, the walk is past the listing.
    const walk = await walkContext(root, { onProgress: ({ bytes }) => bytes > 0 && !fs.lstatSync(path.join(root, "b")).isFIFO() && replaceB() });
    expect(walk.entries.map((e) => e.path)).toEqual(["a", "z"]);
    expect(walk.special).toEqual(["b", "m"]);
  });
});

test("progress is reported during a long walk", async () => {
  const root = makeTree({ files: ["a/1", "b/2", "c/3"] });
  let now = 0;
  const spy = vi.spyOn(performance, "now").mockImplementation(() => (now += 100)); // every check is 100 ms later
  onTestFinished(() => spy.mockRestore());
  const seen: number[] = [];
  await walkContext(root, { onProgress: (p) => seen.push(p.files) });
  expect(seen.length).toBeGreaterThan(0);
  expect(seen).toEqual([...seen].sort((x, y) => x - y));
});
