/** The dispatcher: what no command handles itself. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, onTestFinished, test } from "vitest";
import type { Io } from "./io.js";
import { main } from "./main.js";

test("a path the file system refuses gets a sentence and exit code 2, not a stack trace", async () => {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dockwright-main-")));
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, "run.yaml"), "settings: {docker: {parent_image: python:3.11-slim, allow_including_files_in_images: true, allow_download_from_code_repository: false, allow_download_from_artifact_store: false}}\n");
  fs.writeFileSync(path.join(dir, "a-file"), "");
  let stderr = "";
  const io: Io = { cwd: dir, env: {}, stdout: () => {}, stderr: (t) => (stderr += t), stderrIsTTY: false };
  expect(await main(["compile", "run.yaml", "--out", "a-file/out"], io)).toBe(2);
  expect(stderr).toMatch(/^dockwright: cannot use the output folder ".*\/a-file\/out": ".*\/a-file\/out" cannot be written \(ENOTDIR\)\. Choose another with --out\.\n$/);
});
