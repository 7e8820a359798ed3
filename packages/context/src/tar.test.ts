/** The context archive and staging: deterministic, complete, readable by tar. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, test } from "vitest";
import { hashContext } from "./hash.js";
import { stageContext } from "./stage.js";
import { writeContextTar } from "./tar.js";
import { makeTree, type TreeSpec } from "./tree.testing.js";
import { walkContext } from "./walk.js";
import { parseDockerignore } from "./dockerignore.js";

async function tarBytes(root: string, generated: { path: string; contents: string }[] = [], dockerignore = ""): Promise<Buffer> {
  const snapshot = await hashContext(await walkContext(root, { patterns: parseDockerignore(dockerignore) }));
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (chunk: Buffer) => chunks.push(chunk));
  await writeContextTar(out, root, snapshot, generated);
  return Buffer.concat(chunks);
}

function tar(args: string[], input?: Buffer): string {
  return execFileSync("tar", args, { input, env: { ...process.env, TZ: "UTC", LC_ALL: "C.UTF-8" } }).toString();
}

const longName = `${"deep/".repeat(30)}file.txt`; // 158 bytes: beyond ustar's 100
const spec: TreeSpec = {
  files: { "a.txt": "hello", "bin/run.sh": "#!/bin/sh\n", "données/é.txt": "é", [longName]: "long" },
  symlinks: { "link": "a.txt", [`${"l".repeat(120)}`]: `${"t".repeat(120)}` },
};

describe("writeContextTar", () => {
  test("byte-identical across runs and locations", async () => {
    const one = makeTree(spec);
    const two = makeTree(spec);
    fs.utimesSync(path.join(two, "a.txt"), new Date(0), new Date(1e12)); // times must not matter
    const first = await tarBytes(one);
    expect((await tarBytes(one)).equals(first)).toBe(true);
    expect((await tarBytes(two)).equals(first)).toBe(true);
    expect(first.length % 512).toBe(0);
  });

  test("entries sorted, owner 0/0 without names, time 0, modes kept, folders first", async () => {
    const root = makeTree(spec);
    fs.chmodSync(path.join(root, "bin/run.sh"), 0o755);
    const listing = tar(["--numeric-owner", "-tvf", "-"], await tarBytes(root)).trim().split("\n");
    const byName = new Map(listing.map((line) => [line.slice(line.indexOf("1970-01-01 00:00 ") + 17), line]));
    expect([...byName.keys()].slice(0, 5)).toEqual(["a.txt", "bin/", "bin/run.sh", "deep/", "deep/deep/"]);
    expect(byName.get("a.txt")).toMatch(/^-rw-r--r-- 0\/0 +5 1970-01-01 00:00 a\.txt$/);
    expect(byName.get("bin/run.sh")).toMatch(/^-rwxr-xr-x 0\/0 /);
    expect(byName.get("bin/")).toMatch(/^drwxr-xr-x 0\/0 +0 1970-01-01 00:00 bin\/$/);
    expect(byName.get("link -> a.txt")).toMatch(/^lrwxrwxrwx 0\/0 /);
    expect(listing.every((line) => line.includes(" 0/0 ") && line.includes("1970-01-01 00:00"))).toBe(true);
  });

  test("long and non-ASCII names and link targets survive extraction (PAX)", async () => {
    const root = makeTree(spec);
    const out = makeTree({});
    tar(["-xf", "-", "-C", out], await tarBytes(root));
    expect(fs.readFileSync(path.join(out, longName), "utf8")).toBe("long");
    expect(fs.readFileSync(path.join(out, "données/é.txt"), "utf8")).toBe("é");
    expect(fs.readlinkSync(path.join(out, "l".repeat(120)))).toBe("t".repeat(120));
    expect(fs.readlinkSync(path.join(out, "link"))).toBe("a.txt");
  });

  test("generated files are added, replace a source of the same path, and ignore the patterns", async () => {
    const root = makeTree({ files: { "app.py": "print()", ".zenml_user_requirements": "stale" } });
    const bytes = await tarBytes(root, [{ path: ".zenml_user_requirements", contents: "numpy\n" }, { path: "gen/extra.txt", contents: "x" }], "*\n!app.py\n");
    const out = makeTree({});
    tar(["-xf", "-", "-C", out], bytes);
    expect(tar(["-tf", "-"], bytes).trim().split("\n")).toEqual([".zenml_user_requirements", "app.py", "gen/", "gen/extra.txt"]);
    expect(fs.readFileSync(path.join(out, ".zenml_user_requirements"), "utf8")).toBe("numpy\n");
  });

  test.each([
    ["../escape", "not a clean relative path"],
    ["/abs", "not a clean relative path"],
    ["a//b", "not a clean relative path"],
    ["app.py/x", "collides"],
    ["dir", "collides"],
    ["empty", "collides"],
  ])("refuses the generated path %j", async (file, message) => {
    const root = makeTree({ files: ["app.py", "dir/f"], dirs: ["empty"] });
    await expect(tarBytes(root, [{ path: file, contents: "" }])).rejects.toMatchObject({ diagnostics: [{ code: "INVALID_PATH", message: expect.stringContaining(message) }] });
  });

  test("folders of the snapshot keep their modes; empty ones are there", async () => {
    const root = makeTree({ files: ["src/app.py", "data/a.csv"], dirs: ["data/empty"] });
    fs.chmodSync(path.join(root, "src"), 0o750);
    const bytes = await tarBytes(root, [], "data/*.csv\n");
    const listing = tar(["--numeric-owner", "-tvf", "-"], bytes).trim().split("\n");
    expect(listing.map((line) => line.slice(line.indexOf("1970-01-01 00:00 ") + 17))).toEqual(["data/", "data/empty/", "src/", "src/app.py"]);
    expect(listing[2]).toMatch(/^drwxr-x--- 0\/0 /);
    const out = makeTree({});
    tar(["-xf", "-", "-C", out], bytes);
    expect(fs.readdirSync(path.join(out, "data/empty"))).toEqual([]);
  });

  test("a file that changes size after the walk fails the archive instead of corrupting it", async () => {
    const root = makeTree({ files: { "a.txt": "short" } });
    const snapshot = await walkContext(root);
    fs.writeFileSync(path.join(root, "a.txt"), "much longer now");
    await expect(writeContextTar(new PassThrough().resume(), root, snapshot)).rejects.toMatchObject({ diagnostics: [{ code: "CONTEXT_UNREADABLE" }] });
  });
});

describe("stageContext", () => {
  test("copies the snapshot with modes and links, plus the generated files", async () => {
    const root = makeTree({ files: { "app.py": "print()", "bin/run.sh": "#!/bin/sh\n", "skip.log": "" }, symlinks: { link: "app.py" } });
    fs.chmodSync(path.join(root, "bin/run.sh"), 0o751);
    const snapshot = await walkContext(root, { patterns: ["*.log"] });
    const dest = path.join(makeTree({}), "stage");
    await stageContext(root, snapshot, [{ path: "reqs.txt", contents: "numpy\n" }], dest);
    const staged = fs.readdirSync(dest, { recursive: true }).map(String).sort();
    expect(staged).toEqual(["app.py", "bin", "bin/run.sh", "link", "reqs.txt"]);
    expect(fs.statSync(path.join(dest, "bin/run.sh")).mode & 0o7777).toBe(0o751);
    expect(fs.readlinkSync(path.join(dest, "link"))).toBe("app.py");
    expect(fs.readFileSync(path.join(dest, "reqs.txt"), "utf8")).toBe("numpy\n");
  });

  test("makes the snapshot's folders, empty ones too, with their modes whatever the umask", async () => {
    const root = makeTree({ files: ["src/app.py", "data/a.csv", "gen-only/x"], dirs: ["data/empty", "locked/inner"] });
    fs.chmodSync(path.join(root, "src"), 0o750);
    fs.chmodSync(path.join(root, "locked"), 0o500);
    const snapshot = await walkContext(root, { patterns: ["data/*.csv", "gen-only"] });
    const dest = path.join(makeTree({}), "stage");
    const umask = process.umask(0o077);
    try {
      await stageContext(root, snapshot, [{ path: "gen/reqs.txt", contents: "numpy\n" }], dest);
    } finally {
      process.umask(umask);
    }
    const modes = Object.fromEntries(["data", "data/empty", "gen", "locked", "locked/inner", "src"].map((dir) => [dir, fs.statSync(path.join(dest, dir)).mode & 0o7777]));
    expect(modes).toEqual({ data: 0o755, "data/empty": 0o755, gen: 0o755, locked: 0o500, "locked/inner": 0o755, src: 0o750 });
    expect(fs.readdirSync(path.join(dest, "data/empty"))).toEqual([]);
    expect(fs.readFileSync(path.join(dest, "gen/reqs.txt"), "utf8")).toBe("numpy\n");
  });

  test("writable: every file and folder readable and writable by anyone, execute bits kept; folders never follow the umask", async () => {
    const root = makeTree({ files: { "app.py": "print()", "bin/run.sh": "#!/bin/sh\n" } });
    fs.chmodSync(path.join(root, "bin/run.sh"), 0o751);
    const snapshot = await walkContext(root);
    const modes = async (writable: boolean) => {
      const dest = path.join(makeTree({}), "stage");
      const umask = process.umask(0o077);
      try {
        await stageContext(root, snapshot, [{ path: "reqs/user.txt", contents: "numpy\n" }], dest, { writable });
      } finally {
        process.umask(umask);
      }
      const mode = (p: string) => (fs.statSync(path.join(dest, p)).mode & 0o7777).toString(8);
      return ["app.py", "bin", "bin/run.sh", "reqs", "reqs/user.txt"].map(mode);
    };
    expect(await modes(true)).toEqual(["666", "777", "777", "777", "666"]);
    expect(await modes(false)).toEqual(["644", "755", "751", "755", "644"]);
  });

  test("refuses a folder that is not empty", async () => {
    const root = makeTree({ files: ["a"] });
    const dest = makeTree({ files: ["stale"] });
    await expect(stageContext(root, await walkContext(root), [], dest)).rejects.toMatchObject({ diagnostics: [{ code: "INVALID_PATH" }] });
  });
});
