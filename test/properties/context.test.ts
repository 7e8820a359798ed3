/**
 * Property: hostile file names in a build context (line breaks, terminal escapes, forged
 * diagnostics, leading dashes, shell syntax, arbitrary code points) reach every backend intact.
 * Written to a real folder, each is found by the walk, is in the tar that Docker's and Kaniko's
 * builds receive exactly as named (read back by Python's tarfile), and is listed by
 * `dockwright context` on one line of its own. Buildah and BuildKit copy the same snapshot's
 * folder; the warnings that name such files are checked by the backend suites.
 */
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { finished } from "node:stream/promises";
import { hashContext, walkContext, writeContextTar } from "@dockwright/context";
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import { contextCommand } from "../../packages/cli/src/commands/context.ts";
import type { Io } from "../../packages/cli/src/io.ts";
import { need, pythonOracle } from "../support/python.ts";
import { contextFileName } from "./arbitraries.ts";
import { parameters, timeout } from "./support.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "dockwright-context-property-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The names in a tar archive, as Python's tarfile reads them (PAX records included). */
const tarNames = need(pythonOracle(`
import tarfile
def answer(file):
    with tarfile.open(file) as archive:
        return [member.name for member in archive.getmembers() if member.isfile()]
`, ["tarfile"]));

/** One name of a folder: no `/` or NUL, not `.` or `..`, at most 255 bytes, valid UTF-8, not an ignore file. */
const fileName = fc
  .oneof(contextFileName, fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }), fc.string({ unit: "binary", minLength: 1, maxLength: 12 }))
  .map((name) => name.replace(/[/\0]|\p{Cs}/gu, "_"))
  .filter((name) => name !== "." && name !== ".." && name !== ".dockerignore" && Buffer.byteLength(name) <= 255);

const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

let count = 0;
describe("build context", () => {
  test(`${parameters.numRuns} sets of hostile file names: walked, archived and listed intact`, { timeout }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fileName, { minLength: 1, maxLength: 6 }), async (names) => {
        const root = mkdtempSync(path.join(scratch, `c${count++}-`));
        try {
          for (const name of names) writeFileSync(path.join(root, name), "x\n");
          const expected = [...names].sort(byUtf8);
          const snapshot = await hashContext(await walkContext(root));
          expect(snapshot.entries.map((e) => e.path)).toEqual(expected);

          if (tarNames) {
            const tar = `${root}.tar`;
            const out = createWriteStream(tar);
            await writeContextTar(out, root, snapshot);
            await finished(out);
            expect(await tarNames(tar)).toEqual(expected);
          }

          let stdout = "";
          const io: Io = { cwd: root, env: {}, stdout: (t) => (stdout += t), stderr: () => {}, stderrIsTTY: false };
          expect(await contextCommand([root], io)).toBe(0);
          // Nothing a terminal or a log reader could take for a line break or a command.
          expect(stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
          const listed = stdout.split("\n").slice(0, -1).map((line) => (line.startsWith('"') ? (JSON.parse(line) as string) : line));
          expect(listed).toEqual(expected);
        } finally {
          rmSync(root, { recursive: true, force: true });
          rmSync(`${root}.tar`, { force: true });
        }
      }),
      parameters,
    );
  });
});
