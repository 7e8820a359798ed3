#!/usr/bin/env node
/** The `dockwright` command: dispatches to one module per command. */
import { main } from "./main.js";

process.exitCode = await main(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stderrIsTTY: process.stderr.isTTY === true,
  // Listening replaces Node's exit on SIGINT, so only a command that asks listens.
  interrupted: () => new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  }),
});
