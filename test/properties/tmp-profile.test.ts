import { Compiler } from "@dockwright/core";
import { zenml } from "@dockwright/plugin-zenml";
import { test } from "vitest";
import { memoryHost } from "../support/memory-host.ts";

test("profile", async () => {
  const compiler = new Compiler([zenml()]);
  for (const piece of ["$", "'", "\u2028", "a"]) for (const n of [10000, 20000]) {
    for (const [name, docker] of [
      ["env", { environment: { V: piece.repeat(n) } }],
      ["req", { requirements: [piece.repeat(n)] }],
      ["arg", { python_package_installer_args: { x: piece.repeat(n) } }],
    ] as const) {
      const t = performance.now();
      const r = await compiler.compile({ config: { settings: { docker } }, pipelineName: "p", host: memoryHost({}) });
      const dt = performance.now() - t;
      if (dt > 50) console.log(JSON.stringify(piece), n, name, Math.round(dt), r.plan ? "ok" : r.diagnostics.map((d) => d.code).join());
    }
  }
}, 600_000);
