/** Context warnings, and finding the source root. */
import fs from "node:fs";
import path from "node:path";
import type { ContextEntry } from "@dockwright/core";
import { describe, expect, test } from "vitest";
import { findSourceRoot } from "./root.js";
import { makeTree } from "./tree.testing.js";
import { contextWarnings, formatBytes } from "./warnings.js";

const MiB = 1024 * 1024;
const file = (path: string, size = 10): ContextEntry => ({ path, type: "file", size, mode: 0o644 });
const context = (entries: ContextEntry[]) => ({ entries, totalSize: entries.reduce((sum, e) => sum + e.size, 0) });

describe("contextWarnings", () => {
  test("nothing to say about a small, clean context", () => {
    expect(contextWarnings(context([file("app.py"), file(".env.example")]))).toEqual([]);
  });

  test("a context over 50 MiB without .dockerignore, and its largest files", () => {
    const big = context([file("data/a.bin", 30 * MiB), file("data/b.bin", 25 * MiB), file("app.py")]);
    const warnings = contextWarnings(big);
    expect(warnings.map((w) => [w.code, w.severity, w.path])).toEqual([
      ["CONTEXT_WARNING", "warning", ".dockerignore"],
      ["CONTEXT_WARNING", "warning", ""],
    ]);
    expect(warnings[0]?.message).toMatch(/55\.0 MiB and there is no \.dockerignore/);
    expect(warnings[1]?.message).toMatch(/data\/a\.bin \(30\.0 MiB\), data\/b\.bin \(25\.0 MiB\), app\.py \(10 B\)/);
    // with an ignore file, only the largest files
    expect(contextWarnings(big, { dockerignore: "/x/.dockerignore" })).toHaveLength(1);
    expect(contextWarnings(context([file("a", 50 * MiB)]))).toEqual([]); // 50 MiB itself is fine
  });

  test.each([
    ".env", "app/.env.production", "id_rsa", "home/.ssh/id_ed25519", "certs/server.pem", "tls.key", "keystore.p12",
    ".aws/credentials", "application_default_credentials.json", ".config/gcloud/credentials.json",
    "my-project-123-0123456789ab.json", ".netrc", ".pypirc", ".docker/config.json", ".kube/config",
  ])("flags %s as a likely secret", (name) => {
    const [warning] = contextWarnings(context([file(name)]));
    expect(warning).toMatchObject({ code: "CONTEXT_WARNING", severity: "warning", path: name });
    expect(warning?.message).toMatch(/looks like/);
  });

  test.each([".env.example", ".env.sample", "id_rsa.pub", "config.json", "package.json", "keys.py", "environment.yml"])("leaves %s alone", (name) => {
    expect(contextWarnings(context([file(name)]))).toEqual([]);
  });

  test("a link named like a secret sends no contents, so no warning", () => {
    expect(contextWarnings(context([{ path: ".env", type: "symlink", size: 0, mode: 0o777, target: "/run/secrets/env" }]))).toEqual([]);
  });

  test("left-out special files are reported", () => {
    expect(contextWarnings({ ...context([]), special: ["run/db.sock"] })).toMatchObject([{ path: "run/db.sock", code: "CONTEXT_WARNING" }]);
  });

  test("formatBytes", () => {
    expect([0, 1023, 1024, 1536, 50 * MiB, 3 * 1024 * MiB].map(formatBytes)).toEqual(["0 B", "1023 B", "1.0 KiB", "1.5 KiB", "50.0 MiB", "3.0 GiB"]);
  });
});

describe("findSourceRoot", () => {
  test("the nearest folder at or above the start holding a .zen folder", async () => {
    const root = makeTree({ dirs: [".zen", "a/b/c", "a/.zen"] });
    expect(await findSourceRoot({ start: path.join(root, "a/b/c") })).toBe(path.join(root, "a"));
    expect(await findSourceRoot({ start: root })).toBe(root);
  });

  test("a .zen file is not a repository marker", async () => {
    const root = makeTree({ files: ["a/.zen"], dirs: [".zen"] });
    expect(await findSourceRoot({ start: path.join(root, "a") })).toBe(root);
  });

  test("else the main file's folder, else the explicit root, both relative to the start", async () => {
    const root = makeTree({ files: ["pipelines/run.py"] });
    expect(await findSourceRoot({ start: root, mainFile: "pipelines/run.py", root: "elsewhere" })).toBe(path.join(root, "pipelines"));
    expect(await findSourceRoot({ start: root, root: "elsewhere" })).toBe(path.join(root, "elsewhere"));
  });

  test("else NO_SOURCE_ROOT", async () => {
    const root = makeTree({});
    expect(fs.existsSync(path.join(root, ".zen"))).toBe(false);
    await expect(findSourceRoot({ start: root })).rejects.toMatchObject({ diagnostics: [{ code: "NO_SOURCE_ROOT", path: root }] });
  });
});
