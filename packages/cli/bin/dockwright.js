#!/usr/bin/env node
// The `dockwright` command. A plain file, not a build output, so that npm links it even in a
// fresh checkout whose dist/ is not built yet; it runs the bundled command line (scripts/bundle.mjs).
import { existsSync } from "node:fs";

const entry = new URL("../bundle/dockwright.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("dockwright: the command line is not built yet. In a checkout of Dockwright, run `npm run build` first.\n");
  process.exit(2);
}
await import(entry.href);
