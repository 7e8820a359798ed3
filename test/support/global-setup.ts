/**
 * Once per run: name the missing system tools, whose suites skip (or, under CI=true, fail). The
 * summary comes at the end, below the results, where a reader of a local run looks.
 */
import { missingSummary } from "./tools.ts";

export default function setup(): (() => void) | undefined {
  const missing = missingSummary();
  if (missing.length === 0) return undefined;
  const lines = missing.map((line) => `  ${line}`).join("\n");
  if (process.env["CI"] === "true") throw new Error(`CI=true, but these tools are missing (run scripts/provision.sh as root):\n${lines}`);
  return () => console.warn(`Skipped the suites that need these missing tools (scripts/provision.sh installs them as root):\n${lines}`);
}
