// Bundles the CLI (after `tsc -b` built every package) into bundle/dockwright.js, with one chunk per
// command: Node then reads a few files instead of about 200 modules and their package.json files,
// and `dockwright context` loads neither the compiler nor the backends. Measured in bench/. Not in
// dist/, which holds tsc's output only: there every file has its source and its map.
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const cli = fileURLToPath(new URL("..", import.meta.url));
await rm(`${cli}/bundle`, { recursive: true, force: true });
await build({
  absWorkingDir: cli,
  entryPoints: { dockwright: "dist/bin.js" },
  outdir: "bundle",
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
