/**
 * Images that download their code from the artifact store hold none: `--code-upload` puts the
 * archive where the run finds it and records the location in plan.json; without it the compile
 * succeeds with one warning that says so.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import { expect, onTestFinished, test } from "vitest";
import type { Io } from "../io.js";
import { main } from "../main.js";

/** A source root whose two steps get two images, both downloading their code. */
function project(): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dockwright-upload-")));
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, "root", ".zen"), { recursive: true });
  fs.writeFileSync(path.join(dir, "root", "run.py"), "print('hi')\n");
  fs.writeFileSync(path.join(dir, "root", "run.yaml"), [
    "settings: {docker: {parent_image: python:3.11-slim}}",
    "steps: {train: {}, serve: {settings: {docker: {apt_packages: [curl]}}}}",
    "stack: {components: [{type: orchestrator, flavor: kubernetes}, {type: artifact_store, flavor: s3}]}",
  ].join("\n"));
  return dir;
}

async function compile(dir: string, ...flags: string[]) {
  let stdout = "";
  let stderr = "";
  const io: Io = { cwd: dir, env: {}, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stderrIsTTY: false };
  const code = await main(["compile", "root/run.yaml", "--out", "out", ...flags], io);
  const plan = code === 0 ? JSON.parse(fs.readFileSync(path.join(dir, "out", "plan.json"), "utf8")) : undefined;
  return { code, stdout, stderr, plan };
}

/** The archive's digest, as plan.json records it: of the tar inside the gzip (gzip bytes vary with zlib). */
const sha256 = (file: string) => `sha256:${createHash("sha256").update(gunzipSync(fs.readFileSync(file))).digest("hex")}`;

test("without a destination: one warning for all images, and the archive stays in the output folder", async () => {
  const dir = project();
  const { code, stderr, plan } = await compile(dir);
  expect(code).toBe(0);
  expect(plan.images.map((image: { sources: unknown }) => image.sources)).toEqual([{ mode: "artifact-store" }, { mode: "artifact-store" }]);
  expect(stderr.match(/CODE_NOT_UPLOADED/g)).toHaveLength(1);
  expect(stderr).toContain(`nothing uploaded the archive "${plan.code.archive.path}"`);
  expect(plan.code.archive.location).toBeUndefined();
  expect(sha256(path.join(dir, "out", plan.code.archive.path))).toBe(plan.code.archive.sha256);
});

test.each([["a folder", (dest: string) => dest], ["a file:// URL", (dest: string) => pathToFileURL(dest).href]])("to %s: copied there, its location and digest in plan.json", async (_, form) => {
  const dir = project();
  const dest = path.join(dir, "store", "code");
  const { code, stderr, plan } = await compile(dir, "--code-upload", form(dest));
  expect(code, stderr).toBe(0);
  expect(stderr).not.toContain("CODE_NOT_UPLOADED");
  const uploaded = path.join(dest, plan.code.archive.path);
  expect(plan.code.archive.location).toBe(pathToFileURL(uploaded).href);
  expect(sha256(uploaded)).toBe(plan.code.archive.sha256);
  // The same code again: the archive there is kept, not rewritten.
  const before = fs.statSync(uploaded).mtimeMs;
  expect((await compile(dir, "--code-upload", form(dest))).plan.code.archive.location).toBe(plan.code.archive.location);
  expect(fs.statSync(uploaded).mtimeMs).toBe(before);
});

test.each(["s3://bucket/code", "https://store.example.com/code", "file://host/share", ""])("--code-upload %j is refused before anything is written", async (dest) => {
  const dir = project();
  const { code, stderr } = await compile(dir, "--code-upload", dest);
  expect(code).toBe(2);
  expect(stderr).toContain(`--code-upload ${JSON.stringify(dest)} is not a folder or a file:// URL.`);
  expect(fs.existsSync(path.join(dir, "out"))).toBe(false);
});
