// Build times with real builders: bench/builds/builds.ts, which starts its builders with the
// end-to-end tests' support code, bundled with esbuild (TypeScript, our packages from their
// sources) and run. Heavy: run it under the lock, alone on the machine.
// Run: flock /tmp/dockwright-heavy.lock node bench/builds/run.mjs
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const out = path.join(repo, "bench/.tree/builds.mjs");

/** Our packages from their sources, as the tests import them; every other package from node_modules. */
const sources = {
  name: "dockwright-sources",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, ({ path: spec }) => {
      const ours = /^@dockwright\/([^/]+)(\/.*)?$/.exec(spec);
      if (!ours) return { external: true };
      const [, name, sub] = ours;
      const dir = name.startsWith("plugin-") ? `plugins/${name.slice("plugin-".length)}` : `packages/${name}`;
      return { path: path.join(repo, dir, "src", sub ? `${sub.slice(1)}.ts` : "index.ts") };
    });
    // Modules that find files beside themselves keep their own folder in the bundle.
    b.onLoad({ filter: /\.ts$/ }, async ({ path: file }) => ({
      contents: (await readFile(file, "utf8")).replaceAll("import.meta.dirname", JSON.stringify(path.dirname(file))),
      loader: "ts",
    }));
  },
};

await build({
  entryPoints: [path.join(repo, "bench/builds/builds.ts")],
  outfile: out,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  plugins: [sources],
  logLevel: "warning",
});
await import(pathToFileURL(out).href);
