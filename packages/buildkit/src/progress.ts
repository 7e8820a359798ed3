/**
 * Progress: the daemon's Status stream (vertices, their statuses and logs) as typed events for
 * embedding tools, and a plain-text printer of those events: one line per finished step with
 * CACHED, DONE and its time or ERROR, and the logs of a failing step.
 */
import type { SyncStats } from "./filesync.js";
import type { StatusResponse } from "./proto.js";

export type BuildEvent =
  /** A step (vertex) started, finished, was found in the cache, or failed. */
  | { type: "step"; digest: string; name: string; state: "started" | "cached" | "done" | "error"; error?: string; seconds?: number }
  /** Output of a step's command. */
  | { type: "log"; digest: string; name: string; stream: "stdout" | "stderr"; text: string }
  /** Progress within a step (bytes pulled, files transferred). */
  | { type: "status"; digest: string; id: string; current: number; total: number; done: boolean }
  /** A warning the daemon raised. */
  | { type: "warning"; digest: string; message: string }
  /** One local directory sent over FileSync: entries listed, files and bytes of contents sent. */
  | ({ type: "sync"; name: string } & SyncStats);

type StepState = { name: string; started: boolean; finished: boolean };

/** Turns Status responses into events; keeps the steps seen so far. */
export function statusEvents(): (response: StatusResponse) => BuildEvent[] {
  const steps = new Map<string, StepState>();
  return (response) => {
    const events: BuildEvent[] = [];
    for (const vertex of response.vertexes) {
      const step = steps.get(vertex.digest) ?? { name: vertex.name, started: false, finished: false };
      steps.set(vertex.digest, step);
      if (step.finished) continue;
      const base = { type: "step" as const, digest: vertex.digest, name: vertex.name };
      if (vertex.started && !step.started) {
        step.started = true;
        if (!vertex.cached || !vertex.completed) events.push({ ...base, state: "started" });
      }
      if (vertex.completed || vertex.error) {
        step.finished = true;
        const seconds = vertex.started && vertex.completed ? millis(vertex.completed) / 1000 - millis(vertex.started) / 1000 : undefined;
        if (vertex.error) events.push({ ...base, state: "error", error: vertex.error, ...(seconds !== undefined ? { seconds } : {}) });
        else if (vertex.cached) events.push({ ...base, state: "cached" });
        else events.push({ ...base, state: "done", ...(seconds !== undefined ? { seconds } : {}) });
      }
    }
    for (const status of response.statuses) {
      events.push({ type: "status", digest: status.vertex, id: status.ID, current: Number(status.current), total: Number(status.total), done: status.completed !== undefined });
    }
    for (const log of response.logs) {
      events.push({ type: "log", digest: log.vertex, name: steps.get(log.vertex)?.name ?? "", stream: log.stream === 2n ? "stderr" : "stdout", text: Buffer.from(log.msg).toString() });
    }
    for (const warning of response.warnings) {
      events.push({ type: "warning", digest: warning.vertex, message: Buffer.from(warning.short).toString() });
    }
    return events;
  };
}

function millis(time: { seconds: bigint; nanos: number }): number {
  return Number(time.seconds) * 1000 + time.nanos / 1e6;
}

/**
 * A printer for `onEvent`: numbers the steps in the order they appear and writes one line when a
 * step ends (`#3 RUN pip install ...: DONE 2.1s`), a failing step's logs below its line.
 */
export function progressPrinter(write: (text: string) => void): (event: BuildEvent) => void {
  const numbers = new Map<string, number>();
  const logs = new Map<string, string[]>();
  const number = (digest: string) => {
    let n = numbers.get(digest);
    if (n === undefined) numbers.set(digest, (n = numbers.size + 1));
    return n;
  };
  return (event) => {
    if (event.type === "log") {
      const lines = logs.get(event.digest) ?? [];
      lines.push(event.text);
      logs.set(event.digest, lines);
      return;
    }
    if (event.type === "warning") {
      write(`warning: ${event.message}\n`);
      return;
    }
    if (event.type !== "step") return;
    const n = number(event.digest);
    if (event.state === "started") return;
    const time = event.seconds !== undefined ? ` ${event.seconds.toFixed(1)}s` : "";
    if (event.state === "cached") write(`#${n} ${event.name}: CACHED\n`);
    else if (event.state === "done") write(`#${n} ${event.name}: DONE${time}\n`);
    else {
      write(`#${n} ${event.name}: ERROR${time}: ${event.error}\n`);
      const text = (logs.get(event.digest) ?? []).join("").replace(/\n$/, "");
      if (text) write(text.split("\n").map((line) => `#${n} | ${line}\n`).join(""));
    }
    logs.delete(event.digest);
  };
}
