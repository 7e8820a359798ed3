/** The committed generated code is what scripts/generate.sh makes from proto/ (skipped without protoc). */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lacks } from "../../../test/support/tools.ts";

const pkg = path.join(import.meta.dirname, "..");
const out = mkdtempSync(path.join(tmpdir(), "dockwright-buildkit-gen-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

describe.skipIf(lacks("protoc") || !existsSync("/usr/include/google/protobuf/descriptor.proto"))("src/gen", () => {
  it("is what scripts/generate.sh makes from proto/, byte for byte", () => {
    execFileSync("bash", [path.join(pkg, "scripts", "generate.sh"), out], { cwd: pkg, stdio: "pipe" });
    const committed = path.join(pkg, "src", "gen");
    expect(files(out)).toEqual(files(committed));
    for (const file of files(committed)) expect(readFileSync(path.join(out, file), "utf8"), file).toBe(readFileSync(path.join(committed, file), "utf8"));
  });
});
