// The cost of correct requirement handling: resolving 2,000 requirements from five sources (PEP
// 508 parsing, markers, PEP 440 conflict checks) beside parsing the same lines with a plain regex
// split; then the hostile sizes of issue 13 (a 130,000-line include, 80,000 duplicates, a 4 MiB
// file, ...), each beside the regex split of the same text, which is linear by construction: a
// ratio that stays flat across sizes means the resolver is linear too. Run after building core:
// `npx tsc -b packages/core && node bench/requirements.bench.mjs`.
import { performance } from "node:perf_hooks";
import { resolveRequirements } from "../packages/core/dist/requirements.js";
import { median } from "./timing.mjs";

const target = { pythonVersion: "3.11", platform: { os: "linux", architecture: "amd64" } };

// Deterministic data shaped like the real sources; every package has one consistent version, so
// overlapping requirements never conflict (a conflict would stop at one error early).
const version = (i) => `${(i % 7) + 1}.${i % 13}.${i % 5}`;
const major = (i) => (i % 7) + 1;
const name = (i) => (i % 3 === 0 ? `Pkg_${i}` : `pkg-${i}`);
const lines = (count, start, step, line) => Array.from({ length: count }, (_, k) => line(start + k * step));

const sources = [
  { origin: "local", from: "settings.docker.replicate_local_python_environment", text: lines(600, 0, 1, (i) => `${name(i)}==${version(i)}`).join("\n") },
  {
    origin: "pyproject",
    from: "settings.docker.pyproject_path",
    text: lines(300, 500, 1, (i) => (i % 4 === 0 ? `${name(i)}==${version(i)} \\\n    --hash=sha256:${"ab".repeat(32)}` : `${name(i)}==${version(i)} ; python_full_version >= '3.9'`)).join("\n"),
  },
  {
    origin: "user",
    from: "settings.docker.requirements",
    file: "requirements.txt",
    text: ["# training", "--extra-index-url https://example.com/simple", ...lines(300, 700, 1, (i) => `${name(i)}[extra]>=${major(i)}.0,<${major(i) + 1}  # needed by step ${i % 9}`)].join("\n"),
  },
  ...Array.from({ length: 8 }, (_, n) => ({
    origin: "integrations",
    from: `integration integration-${n}`,
    text: lines(50, n * 120, 2, (i) => (i % 5 === 0 ? `${name(i)}` : `${name(i)}>=${major(i)}.0`)).join("\n"),
  })),
  ...Array.from({ length: 4 }, (_, n) => ({
    origin: "stack",
    from: `integration stack-${n}`,
    text: lines(100, 300 + n * 150, 3, (i) => `${name(i)}~=${major(i)}.0; sys_platform == "linux"`).join("\n"),
  })),
];

/** The baseline: split lines, drop comments and options, take name and the rest with a regex. */
function regexSplit(texts) {
  const byName = new Map();
  for (const text of texts) {
    for (const raw of text.split("\n")) {
      const line = raw.replace(/#.*/, "").trim();
      if (line === "" || line.startsWith("-")) continue;
      const match = /^([A-Za-z0-9._-]+)\s*(?:\[[^\]]*\])?\s*([^;]*)/.exec(line);
      if (match) byName.set(match[1].toLowerCase(), `${byName.get(match[1].toLowerCase()) ?? ""}${match[2]}`);
    }
  }
  return byName;
}

function measure(run, iterations, warmups = Math.min(10, iterations)) {
  for (let i = 0; i < warmups; i++) run();
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return median(times);
}

const texts = sources.map((s) => s.text);
const requirementCount = texts.join("\n").split("\n").filter((l) => /^[A-Za-z]/.test(l)).length;
const result = resolveRequirements(sources, target);
if (result.diagnostics.length > 0) throw new Error(`unexpected diagnostics: ${result.diagnostics.map((d) => d.message).join("\n")}`);
const written = result.files.reduce((sum, f) => sum + f.lines.length, 0);

const resolved = measure(() => resolveRequirements(sources, target), 40);
const split = measure(() => regexSplit(texts), 200);
const row = (label, ms) => `${label.padEnd(30)}${`${ms.toFixed(2)} ms`.padStart(12)}${`${((ms * 1000) / requirementCount).toFixed(2)} µs`.padStart(18)}`;
console.log(`${requirementCount} requirements from ${sources.length} sources (5 origins), ${regexSplit(texts).size} packages, ${written} lines written`);
console.log(`${"".padEnd(30)}${"median".padStart(12)}${"per requirement".padStart(18)}`);
console.log(row("resolveRequirements", resolved));
console.log(row("regex split (baseline)", split));
console.log(`${"ratio".padEnd(30)}${`${(resolved / split).toFixed(0)}x`.padStart(12)}`);

// Hostile sizes (issue 13, defect 8). Each once warmed, then the median of 3.
const lineList = (count, line) => Array.from({ length: count }, (_, i) => line(i)).join("\n");
const fourMiB = (() => {
  const out = [];
  for (let size = 0, i = 0; size < 4 * 2 ** 20 - 1024; i++) {
    out.push(`package-${i}==1.${i % 100}.${i}`);
    size += out.at(-1).length + 1;
  }
  return out.join("\n");
})();
const hostile = [
  ["130,000-line -r include", "-r big.txt", new Map([["big.txt", lineList(130_000, (i) => `p${i}==1.0`)]])],
  ["80,000 duplicate lines", "numpy==1.26.4\n".repeat(80_000)],
  ["80,000 exclusions of one package", lineList(80_000, (i) => `numpy!=1.${i}`)],
  ["4 MiB, 158,000 packages", fourMiB],
  ["4 MiB line, a run of blanks", `numpy${" ".repeat(4 * 2 ** 20 - 16)}x`],
  ["4 MiB of continuations", "a\\\n".repeat(Math.floor((4 * 2 ** 20) / 3))],
];
console.log("");
console.log(`${"hostile input".padEnd(34)}${"resolve".padStart(12)}${"regex split".padStart(14)}${"ratio".padStart(8)}`);
for (const [label, text, includes = new Map()] of hostile) {
  const source = [{ origin: "user", from: "settings.docker.requirements", file: "requirements.txt", text }];
  const all = [text, ...includes.values()];
  const resolve = measure(() => resolveRequirements(source, target, includes), 3);
  const split = measure(() => regexSplit(all), 3);
  console.log(`${label.padEnd(34)}${`${resolve.toFixed(0)} ms`.padStart(12)}${`${split.toFixed(1)} ms`.padStart(14)}${`${(resolve / split).toFixed(0)}x`.padStart(8)}`);
}
