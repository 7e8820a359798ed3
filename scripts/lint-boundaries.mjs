#!/usr/bin/env node
// The house rules of DESIGN.md, checked on every source file: core is pure and imports none of
// our packages; emitters import only core; plugins never reach into the CLI; no deep imports.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const rules = [
  { dir: "packages/core", forbid: /^(node:)?(fs|fs\/promises|child_process|os|process|net|http)$|^@dockwright\/|^dockwright$/, why: "core stays pure: no file system, processes or other packages of ours" },
  { dir: "packages/emit-", forbid: /^@dockwright\/(?!core(\/diagnostics|\/strings)?$)|^dockwright$|^(node:)?(fs|fs\/promises|child_process)$/, why: "emitters import only core and print; they touch no files" },
  { dir: "packages/registry", forbid: /^@dockwright\/(?!core(\/diagnostics|\/strings)?$)|^dockwright$/, why: "the registry client imports only core: the CLI and builders use it, never the reverse" },
  { dir: "plugins/", forbid: /^dockwright(\/|$)/, why: "plugins never import the CLI" },
  { dir: "", forbid: /^@dockwright\/(?!core\/(diagnostics|strings)$)[^/]+\/./, why: "no deep imports: use the package's exports (core's light entries excepted)" },
];

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && !["node_modules", "dist"].includes(entry.name)) yield* sources(full);
    else if (entry.isFile() && /\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith(".test.ts")) yield full;
  }
}

const importPattern = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
const problems = [];
for (const top of ["packages", "plugins"]) {
  for (const file of sources(path.join(root, top))) {
    const relative = path.relative(root, file);
    if (!relative.split(path.sep).includes("src")) continue;
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(importPattern)) {
      const specifier = match[1] ?? match[2];
      for (const rule of rules) {
        if (relative.startsWith(rule.dir) && rule.forbid.test(specifier)) problems.push(`${relative}: imports ${specifier}: ${rule.why}`);
      }
    }
  }
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log("house rules hold");
