/**
 * The catalog against the data it is generated from (the oracle's extraction of every release's
 * own integration and flavour code, copied to test/zenml-oracle/data): it round-trips byte for
 * byte, and every integration of every release and Python version resolves to exactly the
 * requirements and apt packages ZenML's code gives it.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Compiler } from "@dockwright/core";
import { describe, expect, test } from "vitest";
import { memoryHost } from "../../../test/support/memory-host.ts";
import { releases, zenml } from "./index.js";

const data = path.join(import.meta.dirname, "..", "..", "..", "test", "zenml-oracle", "data");
type DataRun = { releases: string[]; python: string[]; requirements: string[]; apt: string[] };
const integrations = (JSON.parse(readFileSync(path.join(data, "integrations.json"), "utf8")) as { integrations: Record<string, DataRun[]> }).integrations;
const pythons = (JSON.parse(readFileSync(path.join(data, "integrations.json"), "utf8")) as { pythons: string[] }).pythons;

/** The integrations of a release for a Python version, as the data has them. */
function expected(tree: string, python: string): Map<string, DataRun> {
  return new Map(Object.entries(integrations).flatMap(([name, runs]) => {
    const run = runs.find((r) => r.releases.includes(tree) && r.python.includes(python));
    return run ? [[name, run] as const] : [];
  }));
}

test("catalog.json is what scripts/catalog.mjs makes of the data", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "dockwright-catalog-"));
  try {
    const out = path.join(dir, "catalog.json");
    execFileSync(process.execPath, [path.join(import.meta.dirname, "..", "scripts", "catalog.mjs"), "--from", data, "--out", out]);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(path.join(import.meta.dirname, "catalog.json"), "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe.each(releases.map((r) => [r.version, r.tree] as const))("ZenML %s", (version, tree) => {
  test.each(pythons)("Python %s: the preset's catalog holds every integration as ZenML's code gives it", (python) => {
    const compiler = new Compiler([zenml({ version })]);
    const catalog = compiler.hooks.integrations.call(new Map(), { release: version, pythonVersion: python, platform: { os: "linux", architecture: "amd64" } });
    const want = expected(tree, python);
    expect([...catalog.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [name, run] of want) expect(catalog.get(name), name).toEqual({ requirements: run.requirements, aptPackages: run.apt });
  });

  test("every integration resolves when a step requires it (Python 3.11): its requirements file is ZenML's", async () => {
    const compiler = new Compiler([zenml({ version })]);
    for (const [name, run] of expected(tree, "3.11")) {
      const result = await compiler.compile({
        pipelineName: "p",
        host: memoryHost(),
        config: { settings: { docker: { parent_image: "python:3.11-slim", required_integrations: [name] } } },
      });
      expect(result.diagnostics.filter((d) => d.severity === "error"), name).toEqual([]);
      const file = result.plan!.images[0]!.context.generated.find((g) => g.path === ".zenml_integration_requirements");
      // ZenML writes "\n".join(sorted(set(requirements))), and no file for none.
      expect(file?.contents, name).toBe(run.requirements.length > 0 ? [...new Set(run.requirements)].sort().join("\n") : undefined);
    }
  });
});
