/** Stopping a daemon the tests started: SIGTERM, then SIGKILL after 20 s; resolves once it exited. */
import type { ChildProcess } from "node:child_process";

export async function stopDaemon(daemon: ChildProcess): Promise<void> {
  if (daemon.exitCode !== null || daemon.signalCode !== null) return;
  const exited = new Promise((resolve) => daemon.once("exit", resolve));
  daemon.kill("SIGTERM");
  const timer = setTimeout(() => daemon.kill("SIGKILL"), 20_000);
  await exited;
  clearTimeout(timer);
}
