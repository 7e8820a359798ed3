// Generates a 100,000-file tree shaped like a real Python + web repository under bench/.tree/:
// .git loose objects, nested node_modules, a venv, __pycache__ everywhere, data/ with larger
// files, sources, tests, docs; plus a realistic .dockerignore. Deterministic (seeded), so every
// run measures the same tree; regenerated only when missing or incomplete.
import fs from "node:fs";
import path from "node:path";

export const treeRoot = path.resolve(import.meta.dirname, "../.tree/context-100k");
const done = `${treeRoot}.done`;

export const dockerignore = `# version control, environments, caches
.git
venv
.venv
**/node_modules
**/__pycache__
**/*.pyc
.mypy_cache
.pytest_cache
*.log
logs
data/raw
dist
build
*.egg-info
.env
!.env.example
`;

let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const text = Buffer.from("import os\nfrom typing import Any\n\ndef handler(event: Any) -> None:\n    return None\n".repeat(2000));
const blob = Buffer.alloc(1 << 20, "0123456789abcdef");
const small = () => text.subarray(0, 100 + Math.floor(random() * 3900));

/** Creates the tree unless a complete one is there; returns its file count. */
export function ensureTree() {
  if (fs.existsSync(done)) return Number(fs.readFileSync(done, "utf8"));
  fs.rmSync(treeRoot, { recursive: true, force: true });
  let count = 0;
  const write = (file, contents) => {
    fs.writeFileSync(path.join(treeRoot, file), contents);
    count++;
  };
  const dir = (d) => fs.mkdirSync(path.join(treeRoot, d), { recursive: true });
  const many = (folder, n, name, contents = small) => {
    dir(folder);
    for (let i = 0; i < n; i++) write(`${folder}/${name(i)}`, contents());
  };

  dir(".");
  write(".dockerignore", dockerignore);
  for (const f of ["README.md", "pyproject.toml", "Dockerfile", ".env.example", ".gitignore"]) write(f, small());
  // .git: 256 object folders of loose objects, refs, packs
  many(".git", 4, (i) => ["HEAD", "config", "description", "index"][i]);
  for (let o = 0; o < 256; o++) many(`.git/objects/${o.toString(16).padStart(2, "0")}`, 100, (i) => `${(o * 7919 + i).toString(16).padStart(38, "0")}`);
  // node_modules at the root, each package with its own nested node_modules
  for (let p = 0; p < 400; p++) {
    const pkg = `node_modules/pkg-${p}`;
    many(pkg, 3, (i) => ["package.json", "index.js", "README.md"][i]);
    many(`${pkg}/lib`, 20, (i) => `mod-${i}.js`);
    many(`${pkg}/node_modules/dep-${p % 17}`, 10, (i) => `file-${i}.js`);
    many(`${pkg}/node_modules/dep-${p % 13}-b`, 10, (i) => `file-${i}.js`);
  }
  // a venv with __pycache__ in every package
  for (let p = 0; p < 150; p++) {
    const pkg = `venv/lib/python3.11/site-packages/pkg_${p}`;
    many(pkg, 40, (i) => `module_${i}.py`);
    many(`${pkg}/__pycache__`, 40, (i) => `module_${i}.cpython-311.pyc`);
  }
  // sources with __pycache__, tests, docs, a web front end with its own node_modules
  for (let p = 0; p < 200; p++) {
    many(`src/app/pkg_${p}`, 50, (i) => `module_${i}.py`);
    many(`src/app/pkg_${p}/__pycache__`, 50, (i) => `module_${i}.cpython-311.pyc`);
  }
  for (let p = 0; p < 120; p++) many(`tests/unit/test_${p}`, 50, (i) => `test_${i}.py`);
  for (let p = 0; p < 40; p++) many(`docs/section_${p}`, 50, (i) => `page_${i}.md`);
  for (let p = 0; p < 60; p++) many(`web/src/components/c_${p}`, 50, (i) => `Component${i}.tsx`);
  for (let p = 0; p < 160; p++) many(`web/node_modules/lib-${p}`, 50, (i) => `chunk-${i}.js`);
  // data: large raw files (excluded) and processed ones (sent), logs
  many("data/raw", 500, (i) => `shard-${i}.bin`, () => blob.subarray(0, 256 * 1024));
  many("data/processed", 100, (i) => `features-${i}.parquet`, () => blob);
  many("logs", 100_000 - count, (i) => `run-${i}.log`); // rounds the tree to 100,000 files
  fs.writeFileSync(done, String(count));
  return count;
}
