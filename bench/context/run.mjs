// @dockwright/context on a generated 100,000-file repository (see tree.mjs), beside baselines run
// in the same process and on the same warm page cache: find's full walk, a naive fast-glob +
// ignore scan, and sha256sum over the same file list. Medians of several runs.
// Run: npx tsc -p packages/context && node bench/context/run.mjs
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import fg from "fast-glob";
import ignore from "ignore";
import { dockerignore, ensureTree, treeRoot } from "./tree.mjs";

const dist = new URL("../../packages/context/dist/index.js", import.meta.url);
if (!fs.existsSync(dist)) {
  console.error("Build the package first: npx tsc -p packages/context");
  process.exit(1);
}
const { hashContext, loadDockerignore, walkContext } = await import(dist.href);

async function median(runs, fn) {
  const times = [];
  let result;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    result = await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(runs / 2)], result };
}

function spawn(command, args, options = {}) {
  const child = spawnSync(command, args, { stdio: ["pipe", "pipe", "inherit"], maxBuffer: 1 << 28, ...options });
  if (child.status !== 0) throw new Error(`${command} failed with ${child.status}`);
  return child.stdout?.toString() ?? "";
}

const generation = performance.now();
const files = ensureTree();
console.log(`tree: ${files.toLocaleString("en")} files in ${treeRoot} (ready in ${((performance.now() - generation) / 1000).toFixed(1)} s)\n`);

// Walks
spawn("find", [treeRoot, "-type", "f"], { stdio: ["ignore", "ignore", "inherit"] }); // warm the cache
const find = await median(5, () => spawn("find", [treeRoot, "-type", "f"], { stdio: ["ignore", "ignore", "inherit"] }));
const walk = await median(5, async () => walkContext(treeRoot, { patterns: (await loadDockerignore(treeRoot)).patterns }));
// The floor of any walk that reports sizes: one lstat per kept file, and nothing else.
const keptPaths = walk.result.entries.map((e) => `${treeRoot}/${e.path}`);
const floor = await median(5, () => keptPaths.forEach((p) => fs.lstatSync(p)));
const child = new URL("./walk-child.mjs", import.meta.url).pathname;
const proc = await median(3, () => JSON.parse(spawn(process.execPath, [child, treeRoot])));
const naive = await median(3, async () => {
  const all = await fg("**", { cwd: treeRoot, dot: true, onlyFiles: false, followSymbolicLinks: false, markDirectories: true });
  return ignore().add(dockerignore).filter(all.filter((p) => !p.endsWith("/")));
});

// Hashing: the same list of kept files for both
const kept = walk.result.entries.filter((e) => e.type === "file");
const bytes = kept.reduce((sum, e) => sum + e.size, 0);
const list = Buffer.from(kept.map((e) => `${e.path}\0`).join(""));
const sha256sum = () => spawn("xargs", ["-0", "sha256sum"], { cwd: treeRoot, input: list, stdio: ["pipe", "ignore", "inherit"] });
sha256sum(); // warm the cache
const ours = await median(3, () => hashContext(walk.result));
const theirs = await median(3, sha256sum);
const cache = new Map();
await hashContext(walk.result, { cache });
const cached = await median(5, () => hashContext(walk.result, { cache }));

const ms = (t) => `${t.toFixed(0).padStart(6)} ms`;
const rate = (t) => `${((bytes / (1024 * 1024)) / (t / 1000)).toFixed(0).padStart(5)} MiB/s`;
const goal = (ok) => (ok ? "goal met" : "GOAL MISSED");
const rows = [
  ["find ROOT -type f (full walk, no pruning)", ms(find.ms), `${files.toLocaleString("en")} files`, ""],
  ["walkContext, in-process", ms(walk.ms), `${walk.result.entries.length.toLocaleString("en")} kept`, `find / walk = ${(find.ms / walk.ms).toFixed(1)}x (${goal(walk.ms < find.ms)}: faster than find)`],
  ["  floor: lstatSync of the kept paths only", ms(floor.ms), "", `${((floor.ms / walk.ms) * 100).toFixed(0)}% of the walk`],
  ["walk as a whole node process", ms(proc.ms), "", `find / process = ${(find.ms / proc.ms).toFixed(1)}x`],
  ["fast-glob + ignore, naive", ms(naive.ms), `${naive.result.length.toLocaleString("en")} kept (gitignore rules)`, `naive / walk = ${(naive.ms / walk.ms).toFixed(1)}x (${goal(naive.ms >= 10 * walk.ms)}: >= 10x)`],
  ["hashContext, no cache", ms(ours.ms), rate(ours.ms), `${((theirs.ms / ours.ms) * 100).toFixed(0)}% of sha256sum's throughput (${goal(ours.ms <= theirs.ms / 0.8)}: >= 80%)`],
  ["xargs -0 sha256sum, same files", ms(theirs.ms), rate(theirs.ms), `${kept.length.toLocaleString("en")} files, ${(bytes / (1024 * 1024)).toFixed(0)} MiB`],
  ["hashContext, stat cache", ms(cached.ms), "", `first / cached = ${(ours.ms / cached.ms).toFixed(1)}x (${goal(ours.ms >= 10 * cached.ms)}: >= 10x)`],
  ["peak RSS of a walk (whole process)", `${(proc.result.maxRssKiB / 1024).toFixed(0).padStart(6)} MB`, "", goal(proc.result.maxRssKiB / 1024 < 150) + ": < 150 MB"],
];
for (const [name, time, what, ratio] of rows) console.log(`${name.padEnd(42)} ${time.padEnd(10)} ${what.padEnd(32)} ${ratio}`);
