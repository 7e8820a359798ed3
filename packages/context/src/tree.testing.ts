/** Test helper: a temporary folder tree, removed when the test finishes. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { onTestFinished } from "vitest";

export type TreeSpec = {
  /** Files by path; a list gives each file its own path as contents. */
  files?: Record<string, string | Buffer> | string[];
  /** Link path -> target, as stored. */
  symlinks?: Record<string, string>;
  /** Empty folders. */
  dirs?: string[];
  /** Written as `.dockerignore` unless null or absent. */
  dockerignore?: string | null;
};

export function makeTree(spec: TreeSpec): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "dockwright-context-"));
  onTestFinished(() => fs.rmSync(root, { recursive: true, force: true }));
  writeTree(root, spec);
  return root;
}

export function writeTree(root: string, spec: TreeSpec): void {
  const files = Array.isArray(spec.files) ? Object.fromEntries(spec.files.map((f) => [f, f])) : (spec.files ?? {});
  for (const [file, contents] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), contents);
  }
  for (const [link, target] of Object.entries(spec.symlinks ?? {})) {
    fs.mkdirSync(path.dirname(path.join(root, link)), { recursive: true });
    fs.symlinkSync(target, path.join(root, link));
  }
  for (const dir of spec.dirs ?? []) fs.mkdirSync(path.join(root, dir), { recursive: true });
  if (spec.dockerignore != null) fs.writeFileSync(path.join(root, ".dockerignore"), spec.dockerignore);
}
