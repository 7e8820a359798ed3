/** The code archive: deterministic, named by its contents, filtered as git filters. */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { writeCodeArchive } from "./code-archive.js";
import { makeTree, type TreeSpec } from "./tree.testing.js";

function tar(args: string[], input: Buffer): string {
  return execFileSync("tar", args, { input, env: { ...process.env, TZ: "UTC", LC_ALL: "C.UTF-8" } }).toString();
}

async function archive(root: string, exclude?: string[]) {
  const out = makeTree({});
  const result = await writeCodeArchive({ root, out, ...(exclude ? { exclude } : {}) });
  return { ...result, bytes: fs.readFileSync(result.file), out };
}

const listing = (bytes: Buffer) => tar(["-tzf", "-"], bytes).trim().split("\n").filter((line) => line !== "");

const project: TreeSpec = {
  files: {
    "run.py": "print('run')\n",
    "pipelines/train.py": "def train(): ...\n",
    "bin/setup.sh": "#!/bin/sh\n",
    "données/é.py": "# é\n",
  },
  symlinks: { "current.py": "run.py" },
};

describe("writeCodeArchive", () => {
  test("byte-identical across runs and checkout locations, whatever the times and umask", async () => {
    const one = makeTree(project);
    const two = makeTree(project);
    fs.chmodSync(path.join(one, "bin/setup.sh"), 0o755);
    fs.chmodSync(path.join(two, "bin/setup.sh"), 0o775); // another umask
    fs.chmodSync(path.join(two, "run.py"), 0o664);
    fs.utimesSync(path.join(two, "run.py"), new Date(0), new Date(1e12));
    const first = await archive(one);
    const again = await archive(one);
    const elsewhere = await archive(two);
    expect(again.bytes.equals(first.bytes)).toBe(true);
    expect(elsewhere.bytes.equals(first.bytes)).toBe(true);
    expect(path.basename(elsewhere.file)).toBe(path.basename(first.file));
  });

  test("named by the sha256 of the tar inside; a fixed gzip header; git's modes", async () => {
    const root = makeTree(project);
    fs.chmodSync(path.join(root, "bin/setup.sh"), 0o750);
    const { file, sha256, size, bytes, diagnostics } = await archive(root);
    const hex = createHash("sha256").update(gunzipSync(bytes)).digest("hex");
    expect(sha256).toBe(`sha256:${hex}`);
    expect(path.basename(file)).toBe(`code-${hex.slice(0, 16)}.tar.gz`);
    expect(size).toBe(bytes.length);
    expect(diagnostics).toEqual([]);
    expect([...bytes.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]); // no name, mtime 0, level 9, Unix
    const verbose = tar(["--numeric-owner", "-tzvf", "-"], bytes);
    expect(verbose).toMatch(/^-rwxr-xr-x 0\/0 +\d+ 1970-01-01 00:00 bin\/setup\.sh$/m);
    expect(verbose).toMatch(/^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00 run\.py$/m);
    expect(verbose).toMatch(/^lrwxrwxrwx 0\/0 +0 1970-01-01 00:00 current\.py -> run\.py$/m);
    // No temporary file stays behind.
    expect(fs.readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
  });

  test("honours .gitignore files at every level, as git does", async () => {
    const root = makeTree({
      files: {
        ".gitignore": "*.log\n!keep.log\ndata/\n!data/wanted.csv\n/build\n__pycache__/\n",
        "app.py": "",
        "debug.log": "",
        "keep.log": "",
        "data/big.csv": "",
        "data/wanted.csv": "", // below an ignored folder: git cannot re-include it
        "build/out.bin": "",
        "src/build/gen.py": "", // `/build` is anchored at the root's .gitignore
        "src/__pycache__/m.pyc": "",
        "src/pkg/.gitignore": "secret.txt\n!important.log\n/local\n",
        "src/pkg/important.log": "", // the deeper file re-includes it
        "src/pkg/secret.txt": "",
        "src/pkg/local/x.py": "",
        "src/pkg/sub/local/y.py": "", // `/local` is anchored at src/pkg
        "src/secret.txt": "", // the nested rule does not reach up
        ".git/config": "",
        ".zen/config.yaml": "",
        "nested/.git": "gitdir: ../.git/modules/nested\n",
        "dockwright-out/plan.json": "",
      },
    });
    const { bytes } = await archive(root, ["dockwright-out"]);
    expect(listing(bytes)).toEqual([
      ".gitignore",
      "app.py",
      "keep.log",
      "src/",
      "src/build/",
      "src/build/gen.py",
      "src/pkg/",
      "src/pkg/.gitignore",
      "src/pkg/important.log",
      "src/pkg/sub/",
      "src/pkg/sub/local/",
      "src/pkg/sub/local/y.py",
      "src/secret.txt",
    ]);
  });

  test("the contents survive extraction", async () => {
    const root = makeTree(project);
    const out = makeTree({});
    tar(["-xzf", "-", "-C", out], (await archive(root)).bytes);
    expect(fs.readFileSync(path.join(out, "données/é.py"), "utf8")).toBe("# é\n");
    expect(fs.readlinkSync(path.join(out, "current.py"))).toBe("run.py");
  });

  test("warns above 20 MiB, naming the largest files", async () => {
    const root = makeTree({ files: { "model.bin": randomBytes(21 * 1024 * 1024), "app.py": "" } });
    const { diagnostics } = await archive(root);
    expect(diagnostics).toEqual([
      expect.objectContaining({ code: "CONTEXT_WARNING", severity: "warning", path: ".gitignore", message: expect.stringContaining("its largest files: model.bin (21.0 MiB), app.py (0 B)") }),
    ]);
  });
});
