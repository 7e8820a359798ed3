// The time of a fully reused `dockwright build --push` of the example pipeline (both images found in
// the registry by their content tags: nothing built) beside building and pushing it, in the same
// run, with Buildah and a real registry (Debian's docker-registry). The example's parent,
// python:3.11-slim, is not reachable offline: it is pointed at a small base image pushed to the
// registry first (busybox, with pip and apt-get stand-ins that do nothing).
//
//   npm run build && flock /tmp/dockwright-heavy.lock node bench/reuse.bench.mjs
//
// Run as root (Buildah, chroot isolation, vfs storage in a temporary folder).
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { median } from "./timing.mjs";

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const cli = path.join(repo, "packages/cli/bin/dockwright.js");
const runs = Number(process.env["RUNS"] ?? 3);
const dir = mkdtempSync(path.join(tmpdir(), "dockwright-bench-reuse-"));

const port = await new Promise((resolve) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    server.close(() => resolve(port));
  });
});
const host = `127.0.0.1:${port}`;
writeFileSync(path.join(dir, "registry.yml"), `version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: ${dir}/registry}}\nhttp: {addr: "${host}"}\n`);
const registry = spawn("docker-registry", ["serve", path.join(dir, "registry.yml")], { stdio: "ignore" });

const storage = path.join(dir, "storage.conf");
writeFileSync(storage, `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/buildah/root"\nrunroot = "${dir}/buildah/run"\n`);
mkdirSync(path.join(dir, "tmp"));
const env = { ...process.env, CONTAINERS_STORAGE_CONF: storage, STORAGE_DRIVER: "vfs", BUILDAH_ISOLATION: "chroot", TMPDIR: path.join(dir, "tmp") };
const buildah = (...args) => execFileSync("buildah", args, { env, encoding: "utf8" }).trim();

try {
  for (let i = 0; ; i++) {
    const up = await fetch(`http://${host}/v2/`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 100) throw new Error("docker-registry did not start");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  // The base image: busybox and its applets, pip and apt-get that succeed doing nothing.
  const rootfs = path.join(dir, "rootfs");
  mkdirSync(path.join(rootfs, "bin"), { recursive: true });
  mkdirSync(path.join(rootfs, "usr/local/bin"), { recursive: true });
  mkdirSync(path.join(rootfs, "tmp"), { mode: 0o1777 });
  cpSync("/bin/busybox", path.join(rootfs, "bin/busybox"));
  for (const applet of execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" }).split("\n").filter((a) => a && a !== "busybox")) {
    symlinkSync("busybox", path.join(rootfs, "bin", applet));
  }
  for (const tool of ["pip", "apt-get", "uv"]) writeFileSync(path.join(rootfs, "usr/local/bin", tool), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  const ctr = buildah("from", "scratch");
  buildah("copy", "--quiet", ctr, rootfs, "/");
  buildah("config", "--env", "PATH=/usr/local/bin:/usr/bin:/bin", ctr);
  buildah("commit", "--quiet", "--rm", ctr, "localhost/bench-base:latest");
  buildah("push", "--quiet", "--tls-verify=false", "localhost/bench-base:latest", `docker://${host}/bench-base:latest`);

  // The example, its parent in the registry, its stack with a container registry there.
  const root = path.join(dir, "example");
  cpSync(path.join(repo, "examples/training-pipeline"), root, { recursive: true });
  const text = readFileSync(path.join(root, "training.yaml"), "utf8")
    .replace("parent_image: python:3.11-slim", `parent_image: ${host}/bench-base:latest`)
    .replace("    - { type: artifact_store, flavor: local }", `    - { type: artifact_store, flavor: local }\n    - { type: container_registry, flavor: default, uri: "${host}/bench" }`);
  writeFileSync(path.join(root, "training.yaml"), text);
  // Built every time: the same images (prevent_build_reuse is not part of the checksum).
  writeFileSync(path.join(root, "forced.yaml"), text.replace("    allow_including_files_in_images: true", "    allow_including_files_in_images: true\n    prevent_build_reuse: true"));

  const build = (config) => {
    const out = path.join(dir, "out");
    rmSync(out, { recursive: true, force: true });
    const start = performance.now();
    const result = execFileSync("node", [cli, "build", path.join(root, config), "--builder", "buildah", "--push", "--insecure-registry", host, "--root", root, "--out", out, "--json"], { env, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const ms = performance.now() - start;
    const summary = JSON.parse(result.trim().split("\n").at(-1));
    return { ms, summary };
  };

  const built = [];
  for (let i = 0; i < runs; i++) {
    const { ms, summary } = build("forced.yaml");
    if (summary.built !== 2) throw new Error(`expected 2 images built: ${JSON.stringify(summary)}`);
    built.push(ms);
  }
  const reused = [];
  for (let i = 0; i < runs + 2; i++) {
    const { ms, summary } = build("training.yaml");
    if (summary.reused !== 2) throw new Error(`expected 2 images reused: ${JSON.stringify(summary)}`);
    reused.push(ms);
  }
  const row = (name, values) => `${name.padEnd(52)} ${(median(values) / 1000).toFixed(2).padStart(7)} s   (${values.map((v) => (v / 1000).toFixed(2)).join(", ")})`;
  console.log(`dockwright build --push of examples/training-pipeline (2 images), Buildah, medians of ${runs} and ${runs + 2} runs, empty output folder each time:`);
  console.log(row("built and pushed (prevent_build_reuse: the baseline)", built));
  console.log(row("fully reused (content tags found in the registry)", reused));
  console.log(`reused / built: ${(median(reused) / median(built)).toFixed(3)} (${(median(built) / median(reused)).toFixed(1)}x faster)`);
} finally {
  registry.kill();
  try {
    buildah("rm", "--all");
    buildah("rmi", "--all", "--force");
  } catch {
    // Nothing left to remove.
  }
  rmSync(dir, { recursive: true, force: true });
}
