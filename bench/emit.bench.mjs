// Compiling and printing a 50-step pipeline in process: each step its own image (its own
// requirements, packages and environment), compiled once through the CLI's pipeline (the real
// host walks and hashes a small source root), then printed by every backend. The figure that
// matters is the ratio of LLB printing to Dockerfile printing on the same plans (goal: <= 3x).
// Run after building: `npx turbo run build && node bench/emit.bench.mjs`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { emitBuildah } from "../packages/emit-buildah/dist/index.js";
import { emitDockerfile } from "../packages/emit-dockerfile/dist/index.js";
import { emitLlb } from "../packages/emit-llb/dist/index.js";
import { compileConfig } from "../packages/cli/dist/pipeline.js";
import { timed } from "./timing.mjs";

const steps = 50;
const work = mkdtempSync(path.join(tmpdir(), "dockwright-emit-bench-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
const root = path.join(work, "root");
for (let i = 0; i < 40; i++) {
  mkdirSync(path.join(root, "pipelines", `pkg_${i % 8}`), { recursive: true });
  writeFileSync(path.join(root, "pipelines", `pkg_${i % 8}`, `step_${i}.py`), `def step_${i}():\n    return ${i}\n`);
}
writeFileSync(path.join(root, "requirements.txt"), "pandas>=2\nscikit-learn==1.5.0\n");

// Steps differ in what they install and set, so that no two share an image.
const integrations = ["sklearn", "pytorch", "tensorflow", "huggingface", "s3", "gcp", "aws", "kubernetes"];
const yaml = [
  "settings:",
  "  docker:",
  "    parent_image: python:3.11-slim",
  "    requirements: requirements.txt",
  "    apt_packages: [git, libgomp1]",
  "    environment: { PYTHONUNBUFFERED: '1' }",
  "    allow_download_from_code_repository: false",
  "    allow_download_from_artifact_store: false",
  "steps:",
  ...Array.from({ length: steps }, (_, i) => [
    `  step_${i}:`,
    "    settings:",
    "      docker:",
    `        requirements: [requests==2.${i}.0, numpy>=1.${i % 20}]`,
    `        required_integrations: [${integrations[i % integrations.length]}]`,
    `        apt_packages: [git, curl, pkg-${i}]`,
    `        environment: { STEP: step_${i}, MODEL_DIR: /models/${i}, PYTHONUNBUFFERED: '1' }`,
    ...(i % 3 === 0 ? ["        user: zenml"] : []),
  ]).flat(),
].join("\n");
const config = path.join(work, "bench.yaml");
writeFileSync(config, `${yaml}\n`);

const compile = () => compileConfig({ configPath: config, root, out: path.join(work, "out"), pipeline: "bench" });
await compile(); // warm: module loading, the first walk
const compiled = await timed(7, compile);
const images = compiled.result.plan.images.filter((image) => !image.skipBuild);
if (images.length !== steps) throw new Error(`expected ${steps} images, the plan has ${images.length}`);

const print = (emit) => () => images.map((image) => emit(image));
for (const emit of [emitDockerfile, emitBuildah, emitLlb]) for (let i = 0; i < 20; i++) print(emit)(); // warm the JIT
const runs = 31;
const dockerfile = await timed(runs, print((image) => emitDockerfile(image, { mode: "buildkit" })));
const buildah = await timed(runs, print((image) => emitBuildah(image)));
const llb = await timed(runs, print((image) => emitLlb(image)));

const per = (t) => `${((t.ms * 1000) / images.length).toFixed(0).padStart(6)} µs/image`;
const ms = (t) => `${t.ms.toFixed(2).padStart(8)} ms`;
const rows = [
  ["compile (50 images, with the context walk)", ms(compiled), per(compiled), ""],
  ["print Dockerfiles", ms(dockerfile), per(dockerfile), "baseline"],
  ["print Buildah scripts", ms(buildah), per(buildah), `${(buildah.ms / dockerfile.ms).toFixed(1)}x Dockerfile`],
  ["print LLB (llb.pb, llb.json, image config)", ms(llb), per(llb), `${(llb.ms / dockerfile.ms).toFixed(1)}x Dockerfile (${llb.ms <= 3 * dockerfile.ms ? "goal met" : "GOAL MISSED"}: <= 3x)`],
  ["compile + every backend", ms({ ms: compiled.ms + dockerfile.ms + buildah.ms + llb.ms }), per({ ms: compiled.ms + dockerfile.ms + buildah.ms + llb.ms }), ""],
];
console.log(`${images.length} images, medians of ${runs} printing runs and 7 compiles\n`);
for (const [name, time, each, ratio] of rows) console.log(`${name.padEnd(44)} ${time} ${each}  ${ratio}`);
