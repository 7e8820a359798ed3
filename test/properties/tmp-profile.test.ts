import { Compiler } from "@dockwright/core";
import { zenml } from "@dockwright/plugin-zenml";
import fc from "fast-check";
import { test } from "vitest";
import { memoryHost } from "../support/memory-host.ts";
import { cases } from "./arbitraries.ts";

test("profile", async () => {
  const compiler = new Compiler([zenml()]);
  const samples = fc.sample(cases, { numRuns: 1000, seed: 2 });
  const reasons = new Map<string, number>();
  let ok = 0, tc = 0;
  for (const c of samples) {
    const t = performance.now();
    const r = await compiler.compile({ config: c.config, pipelineName: c.pipelineName, host: memoryHost(c.files) });
    const dt = performance.now() - t; tc += dt;
    if (dt > 100) console.log(Math.round(dt), JSON.stringify(c, (_, v) => typeof v === "string" && v.length > 100 ? `${JSON.stringify(v.slice(0, 6))}x${v.length}` : v).slice(0, 400));
    if (r.plan) { ok++; continue; }
    for (const d of r.diagnostics.filter((d) => d.severity === "error")) {
      const k = `${d.code} ${d.path.replace(/\[\d+\]/g, "[]").replace(/environment.*/, "environment.*").replace(/^steps\..*?\.settings/, "steps.X.settings")}`;
      reasons.set(k, (reasons.get(k) ?? 0) + 1);
    }
  }
  console.log({ ok, tc });
  console.log([...reasons].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([k, n]) => `${n} ${k}`).join("\n"));
}, 600_000);
