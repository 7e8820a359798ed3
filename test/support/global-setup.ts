/** Once per run: name the missing system tools, whose suites skip (or, under CI=true, fail). */
import { missingSummary } from "./tools.ts";

export default function setup(): void {
  const missing = missingSummary();
  if (missing.length === 0) return;
  const lines = missing.map((line) => `  ${line}`).join("\n");
  if (process.env["CI"] === "true") throw new Error(`CI=true, but these tools are missing (run scripts/provision.sh as root):\n${lines}`);
  console.warn(`Skipping the suites that need these missing tools (scripts/provision.sh installs them as root):\n${lines}`);
}
