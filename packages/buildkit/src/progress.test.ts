import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { progressPrinter, statusEvents, type BuildEvent } from "./progress.js";
import { StatusResponseSchema } from "./proto.js";

const at = (seconds: number) => ({ seconds: BigInt(Math.floor(seconds)), nanos: Math.round((seconds % 1) * 1e9) });

describe("progress", () => {
  it("turns Status responses into one event per change, and prints one line per finished step", () => {
    const toEvents = statusEvents();
    const events: BuildEvent[] = [
      ...toEvents(create(StatusResponseSchema, { vertexes: [{ digest: "a", name: "FROM base", started: at(10), cached: true, completed: at(10) }, { digest: "b", name: "RUN pip install", started: at(10) }] })),
      ...toEvents(create(StatusResponseSchema, { logs: [{ vertex: "b", stream: 1n, msg: Buffer.from("Collecting numpy\n") }] })),
      ...toEvents(create(StatusResponseSchema, { vertexes: [{ digest: "b", name: "RUN pip install", started: at(10), completed: at(12.5) }, { digest: "c", name: "RUN false", started: at(12.5) }] })),
      ...toEvents(create(StatusResponseSchema, { logs: [{ vertex: "c", stream: 2n, msg: Buffer.from("boom\nsecond line\n") }] })),
      ...toEvents(create(StatusResponseSchema, { vertexes: [{ digest: "c", name: "RUN false", started: at(12.5), completed: at(13), error: "exit code: 1" }] })),
    ];
    expect(events.filter((e) => e.type === "step").map((e) => `${e.name}: ${e.state}`)).toEqual([
      "FROM base: cached", "RUN pip install: started", "RUN pip install: done", "RUN false: started", "RUN false: error",
    ]);
    let printed = "";
    const print = progressPrinter((t) => (printed += t));
    events.forEach(print);
    expect(printed).toBe([
      "#1 FROM base: CACHED",
      "#2 RUN pip install: DONE 2.5s",
      "#3 RUN false: ERROR 0.5s: exit code: 1",
      "#3 | boom",
      "#3 | second line",
      "",
    ].join("\n"));
  });
});
