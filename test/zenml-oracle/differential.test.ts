/**
 * The differential suite: every case of the ZenML oracle (ZenML's own generation code, run for
 * every release; its output copied into expected/) compiled by Dockwright for the same release,
 * and both read as what the image means (`semantics.ts`). The oracle stubs the commands ZenML
 * would run and the code repository; the plugins below answer exactly as its stubs do.
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Compiler, codes, error, type CompileHost, type Plugin } from "@dockwright/core";
import { zenml } from "@dockwright/plugin-zenml";
import { loadConfig } from "../../packages/cli/src/config-file.ts";
import { nodeHost } from "../../packages/cli/src/host.ts";
import { compareViews, dockwrightView, zenmlView, type OracleOutput } from "./semantics.ts";

const here = path.dirname(new URL(import.meta.url).pathname);
const casesDir = path.join(here, "cases");
const expectedDir = path.join(here, "expected");
const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-oracle-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

type Options = {
  python?: string;
  code_repository?: "none" | "clean" | "dirty" | "unpushed";
  code_repository_type?: string;
  store?: "rest" | "sql";
  env?: Record<string, string>;
  command_outputs?: Record<string, string | null>;
  registry_uri?: string;
  /** The pipeline's name (the oracle's default: `run`). */
  pipeline?: string;
};

/** The oracle's stubbed outputs (zoracle.py) when a case gives none. */
const stubLocal = "numpy==1.26.4\npandas==2.2.2\n";
const stubPyproject = "requests==2.32.3\nscikit-learn==1.5.0\n";

/** Answers the export commands as the oracle's stubbed subprocess does. */
function stubCommands(options: Options, root: string): Plugin {
  const outputs = options.command_outputs ?? {};
  const answer = (command: string, kind: "local" | "pyproject"): string | null => {
    const sanitized = command.replaceAll(root, "{SOURCE_ROOT}");
    const key = [command, sanitized, `*${kind}`].find((k) => k in outputs);
    return key === undefined ? (kind === "local" ? stubLocal : stubPyproject) : outputs[key]!;
  };
  return {
    name: "OracleCommands",
    core: "^0.1.0",
    apply(compiler) {
      compiler.hooks.localEnvironment.tapPromise("OracleCommands", async (request) => {
        const fail = { diagnostics: [error(codes.LOCAL_ENVIRONMENT_FAILED, request.path, "the stubbed command failed")] };
        if (request.kind === "replicate") {
          const text = answer(request.command, "local");
          return text === null ? fail : { requirements: text };
        }
        for (const command of request.commands) {
          const text = answer(command, "pyproject");
          if (text !== null) return { requirements: text };
        }
        return fail;
      });
    },
  };
}

/** A registered repository in the state the case names, as the oracle's stub describes it. */
function stubRepository(options: Options): Plugin {
  return {
    name: "OracleRepository",
    core: "^0.1.0",
    apply(compiler) {
      compiler.hooks.codeRepository.tapPromise("OracleRepository", async () => ({
        url: "https://github.com/oracle/repository", commit: "0".repeat(40), subdirectory: "",
        dirty: options.code_repository === "dirty", unpushed: options.code_repository === "dirty" || options.code_repository === "unpushed", problems: [],
      }));
    },
  };
}

type Case = { name: string; root: string; config: Record<string, unknown>; options: Options; releases: string[] };

async function loadCase(name: string): Promise<Case> {
  const dir = path.join(casesDir, name);
  const loaded = await loadConfig(path.join(dir, "run.yaml"));
  if ("message" in loaded) throw new Error(loaded.message);
  const optionsFile = path.join(dir, "options.json");
  const options = existsSync(optionsFile) ? (JSON.parse(await readFile(optionsFile, "utf8")) as Options) : {};
  const releases = (await readdir(path.join(expectedDir, name))).map((f) => f.replace(/\.json$/, ""));
  // Every oracle root is a ZenML repository with an empty `.zen` folder, which git does not keep.
  await mkdir(path.join(dir, "root", ".zen"), { recursive: true });
  return { name, root: path.join(dir, "root"), config: loaded.value as Record<string, unknown>, options, releases };
}

/** The run configuration as Dockwright reads what the oracle assumes: the registry's URI, the registered repository. */
function runConfig(c: Case): Record<string, unknown> {
  const config = structuredClone(c.config) as Record<string, unknown> & { stack?: { components?: Record<string, unknown>[] } };
  for (const component of config.stack?.components ?? []) {
    if (component["type"] === "container_registry" && component["uri"] === undefined) component["uri"] = c.options.registry_uri ?? "registry.example.com";
  }
  if (c.options.code_repository && c.options.code_repository !== "none") config["code_repository"] = { type: c.options.code_repository_type ?? "github" };
  return config;
}

async function compileCase(c: Case, version: string): Promise<{ plan: Awaited<ReturnType<Compiler["compile"]>>; host: CompileHost }> {
  const compiler = new Compiler([zenml({ version, ...(c.options.store ? { store: c.options.store } : {}) }), stubCommands(c.options, c.root), stubRepository(c.options)]);
  const host = await nodeHost({ root: c.root, base: c.root, out: path.join(scratch, c.name, version) });
  const plan = await compiler.compile({
    config: runConfig(c),
    pipelineName: c.options.pipeline ?? "run",
    host,
    pythonVersion: c.options.python ?? "3.11",
    environment: c.options.env ?? {},
  });
  return { plan, host };
}

const names = (await readdir(casesDir)).sort();
const cases = await Promise.all(names.map(loadCase));
const tally = { compared: 0, matched: 0 };

describe.each(cases)("$name", (c) => {
  it.each(c.releases)("ZenML %s", async (tree) => {
    const expected = JSON.parse(await readFile(path.join(expectedDir, c.name, `${tree}.json`), "utf8")) as OracleOutput;
    const { plan, host } = await compileCase(c, expected.zenml);
    const zenmlSide = zenmlView(expected, c.root);
    // The oracle gives a pipeline without listed steps one step of its own; Dockwright lists none.
    if (zenmlSide.accepted && c.config["steps"] === undefined) delete zenmlSide.steps["step"];
    const ours = dockwrightView(plan.plan, (p) => host.resolve(p));
    if (process.env["DOCKWRIGHT_ORACLE_SHOW"] === `${c.name}/${tree}`) console.log(JSON.stringify({ zenml: zenmlSide, dockwright: ours }, null, 1));
    const differences = compareViews(zenmlSide, ours);
    tally.compared++;
    if (differences.length === 0) tally.matched++;
    expect(differences, plan.plan ? "" : plan.diagnostics.map((d) => `${d.code} ${d.path}: ${d.message}`).join("\n")).toEqual([]);
  });
});

afterAll(() => {
  console.log(`ZenML oracle: ${tally.matched} of ${tally.compared} case-releases mean the same image`);
});
