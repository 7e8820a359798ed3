// Bundles the CLI (after `tsc -b` built every package) into dist/dockwright.js, with one chunk per
// command: Node then reads a few files instead of about 200 modules and their package.json files,
// and `dockwright context` loads neither the compiler nor the backends. Measured in bench/.
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const cli = fileURLToPath(new URL("..", import.meta.url));
await rm(`${cli}/dist/chunks`, { recursive: true, force: true });
await build({
  absWorkingDir: cli,
  entryPoints: { dockwright: "dist/bin.js" },
  outdir: "dist",
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Bundled CommonJS dependencies (tapable, semver) call require(), which an ES module lacks.
  banner: { js: 'import { createRequire as __dockwrightRequire } from "node:module"; const require = __dockwrightRequire(import.meta.url);' },
  legalComments: "linked",
  logLevel: "warning",
});
