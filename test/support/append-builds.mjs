// A writer for the build index concurrency test: appends N records as fast as it can.
// Runs the built CLI package, as a second process would.
import { recordBuild } from "../../packages/cli/dist/build-index.js";

const [file, prefix, count] = process.argv.slice(2);
const known = new Map();
for (let i = 0; i < Number(count); i++) {
  await recordBuild(file, { checksum: `sha256:${prefix}${i}`, tag: `zenml:${prefix}-${i}`, builder: "test" }, known);
}
