// @dockwright/context on a generated 100,000-file repository (see tree.mjs), beside baselines run
// in the same run and on the same warm page cache: find's full walk, find with the walk's prunes
// (the floor of any walk), Docker's own algorithm in Go, fast-glob + ignore, and sha256sum over the
// same file list. Whole processes are timed in turns (A B C A B C ...), medians of several rounds.
// Run: npx turbo run build && node bench/context/run.mjs
// Docker's algorithm: a Go program (filepath.WalkDir plus moby/patternmatcher) that is not part of
// this repository; name its binary in DOCKWRIGHT_BENCH_DOCKERCTX, or those rows are skipped.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import fg from "fast-glob";
import ignore from "ignore";
import { median, timed } from "../timing.mjs";
import { dockerignore, ensureTree, treeRoot } from "./tree.mjs";

const dist = new URL("../../packages/context/dist/index.js", import.meta.url);
const cli = new URL("../../packages/cli/bundle/dockwright.js", import.meta.url).pathname;
const unbundled = new URL("../../packages/cli/dist/bin.js", import.meta.url).pathname;
if (!fs.existsSync(dist) || !fs.existsSync(cli)) {
  console.error("Build first: npx turbo run build");
  process.exit(1);
}
const { hashContext, listContext, loadDockerignore, walkContext } = await import(dist.href);
const dockerctx = process.env["DOCKWRIGHT_BENCH_DOCKERCTX"];

/** Whole processes, run in turns so that a slow moment of the machine hits them all alike. */
function wholeProcesses(rounds, commands) {
  const times = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
  for (const [name, argv] of Object.entries(commands)) run(name, argv); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const [name, argv] of Object.entries(commands)) times[name].push(run(name, argv));
  }
  return Object.fromEntries(Object.entries(times).map(([name, list]) => [name, median(list)]));
}

function run(name, [command, ...args], options = {}) {
  const start = performance.now();
  const child = spawnSync(command, args, { stdio: ["pipe", "ignore", "ignore"], maxBuffer: 1 << 28, ...options });
  const ms = performance.now() - start;
  if (child.status !== 0) throw new Error(`${name}: ${command} exited with ${child.status}`);
  return ms;
}

const generation = performance.now();
const files = ensureTree();
console.log(`tree: ${files.toLocaleString("en")} files in ${treeRoot} (ready in ${((performance.now() - generation) / 1000).toFixed(1)} s)`);
console.log(`node ${process.version}, ${os.availableParallelism()} threads${process.env["NODE_EXTRA_CA_CERTS"] ? ", NODE_EXTRA_CA_CERTS set (it slows every node start-up)" : ""}\n`);

// The floor: find with the prunes the walk makes (the .dockerignore's excluded folders) and its file tests.
const floorFind = [
  "find", treeRoot,
  "(", "-path", `${treeRoot}/.git`, "-o", "-path", `${treeRoot}/venv`, "-o", "-path", `${treeRoot}/logs`, "-o", "-path", `${treeRoot}/data/raw`,
  "-o", "-name", "node_modules", "-o", "-name", "__pycache__", ")", "-prune",
  "-o", "(", "-type", "f", "-o", "-type", "l", ")", "!", "-name", "*.pyc", "!", "-name", "*.log", "-print",
];
const empty = fs.mkdtempSync(path.join(os.tmpdir(), "dockwright-bench-empty-"));
process.on("exit", () => fs.rmSync(empty, { recursive: true, force: true }));

spawnSync("find", [treeRoot, "-type", "f"], { stdio: "ignore" }); // warm the page cache
const processes = wholeProcesses(7, {
  find: ["find", treeRoot, "-type", "f"],
  floor: floorFind,
  node: [process.execPath, "-e", "0"],
  context: [process.execPath, cli, "context", treeRoot],
  unbundled: [process.execPath, unbundled, "context", treeRoot],
  ...(dockerctx ? { go: [dockerctx, treeRoot], goEmpty: [dockerctx, empty] } : {}),
});

// In process, after a warm-up run.
const { patterns } = await loadDockerignore(treeRoot);
const firstList = await timed(1, () => listContext(treeRoot, { patterns }));
const list = await timed(7, () => listContext(treeRoot, { patterns }));
const walk = await timed(5, () => walkContext(treeRoot, { patterns }));
const naive = await timed(3, async () => {
  const all = await fg("**", { cwd: treeRoot, dot: true, onlyFiles: false, followSymbolicLinks: false, markDirectories: true });
  return ignore().add(dockerignore).filter(all.filter((p) => !p.endsWith("/")));
});
const rss = spawnSync(process.execPath, [new URL("./walk-child.mjs", import.meta.url).pathname, treeRoot], { encoding: "utf8" });
const maxRssKiB = JSON.parse(rss.stdout).maxRssKiB;

// Hashing: the same list of kept files for both.
const kept = walk.result.entries.filter((e) => e.type === "file");
const bytes = kept.reduce((sum, e) => sum + e.size, 0);
const list0 = Buffer.from(kept.map((e) => `${e.path}\0`).join(""));
const sha256sum = () => run("sha256sum", ["xargs", "-0", "sha256sum"], { cwd: treeRoot, input: list0 });
sha256sum(); // warm the cache
const ours = await timed(3, () => hashContext(walk.result));
const theirs = { ms: median([sha256sum(), sha256sum(), sha256sum()]) };
const cache = new Map();
await hashContext(walk.result, { cache });
const cached = await timed(5, () => hashContext(walk.result, { cache }));

const ms = (t) => `${t.toFixed(0).padStart(6)} ms`;
const rate = (t) => `${((bytes / (1024 * 1024)) / (t / 1000)).toFixed(0).padStart(5)} MiB/s`;
const goal = (ok) => (ok ? "goal met" : "GOAL MISSED");
const goInProcess = dockerctx ? processes.go - processes.goEmpty : undefined;
const rows = [
  ["whole processes", "", "", ""],
  ["  find ROOT -type f (full walk, no pruning)", ms(processes.find), `${files.toLocaleString("en")} files`, "baseline"],
  ["  find with the walk's prunes (the floor)", ms(processes.floor), "", `${(processes.floor / processes.find).toFixed(2)}x find`],
  ...(dockerctx ? [["  Docker's algorithm in Go (dockerctx-go)", ms(processes.go), "", `${(processes.go / processes.find).toFixed(2)}x find`]] : []),
  ["  node -e 0 (Node's own start-up)", ms(processes.node), "", `${(processes.node / processes.find).toFixed(2)}x find`],
  ["  dockwright context (the bundled CLI)", ms(processes.context), `${list.result.entries.filter((e) => e.type !== "dir").length.toLocaleString("en")} listed`,
    `${(processes.context / processes.find).toFixed(2)}x find (${goal(processes.context < processes.find)}: faster than find)`],
  ["  dockwright context, unbundled", ms(processes.unbundled), "", `${(processes.unbundled / processes.context).toFixed(2)}x the bundle`],
  ["in process", "", "", ""],
  ["  listContext, first run (cold JIT)", ms(firstList.ms), "", ""],
  ["  listContext (no stat per file)", ms(list.ms), "", goInProcess !== undefined
    ? `${(list.ms / goInProcess).toFixed(2)}x Go's walk, ${goInProcess.toFixed(0)} ms in its process (${goal(list.ms <= goInProcess)}: no slower)` : "Go: set DOCKWRIGHT_BENCH_DOCKERCTX"],
  ["  walkContext (listing + lstat of every entry)", ms(walk.ms), `${walk.result.entries.length.toLocaleString("en")} entries`, `${(walk.ms / list.ms).toFixed(1)}x the listing`],
  ["  fast-glob + ignore, naive", ms(naive.ms), `${naive.result.length.toLocaleString("en")} kept (gitignore rules)`, `${(naive.ms / list.ms).toFixed(1)}x the listing`],
  ["  hashContext, no cache", ms(ours.ms), rate(ours.ms), `${((theirs.ms / ours.ms) * 100).toFixed(0)}% of sha256sum's throughput (${goal(ours.ms <= theirs.ms / 0.8)}: >= 80%)`],
  ["  xargs -0 sha256sum, same files (process)", ms(theirs.ms), rate(theirs.ms), `${kept.length.toLocaleString("en")} files, ${(bytes / (1024 * 1024)).toFixed(0)} MiB`],
  ["  hashContext, stat cache", ms(cached.ms), "", `first / cached = ${(ours.ms / cached.ms).toFixed(1)}x (${goal(ours.ms >= 10 * cached.ms)}: >= 10x)`],
  ["  peak RSS of a walk (whole process)", `${(maxRssKiB / 1024).toFixed(0).padStart(6)} MB`, "", `${goal(maxRssKiB / 1024 < 150)}: < 150 MB`],
];
for (const [name, time, what, ratio] of rows) console.log(`${name.padEnd(48)} ${time.padEnd(10)} ${what.padEnd(32)} ${ratio}`);
