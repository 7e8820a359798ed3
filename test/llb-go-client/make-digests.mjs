// Writes digests.json again with the Go program of this folder (see README.md):
//   node test/llb-go-client/make-digests.mjs PATH_TO_BUILT_PROGRAM
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const program = process.argv[2];
if (!program) throw new Error("usage: node make-digests.mjs PATH_TO_BUILT_PROGRAM");
const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, "..", "fixtures");
const digests = {};
for (const fixture of readdirSync(fixtures).sort()) {
  const expected = path.join(fixtures, fixture, "expected");
  if (!existsSync(expected)) continue;
  for (const image of readdirSync(expected).sort()) {
    const llb = path.join(expected, image, "llb.json");
    if (!existsSync(llb)) continue;
    const printed = execFileSync(program, [llb], { encoding: "utf8" });
    digests[`${fixture}/${image}`] = [...new Set(printed.split(/\s+/).filter(Boolean))].sort();
  }
}
writeFileSync(path.join(here, "digests.json"), `${JSON.stringify(digests, null, 2)}\n`);
