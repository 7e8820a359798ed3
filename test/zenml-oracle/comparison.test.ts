/**
 * The differential comparison can fail: each change ZenML's output could show, made on purpose
 * to a copy of an expected output, is reported as a difference from Dockwright's plan.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { compareViews, zenmlView, type OracleOutput } from "./semantics.ts";

const here = path.dirname(new URL(import.meta.url).pathname);

async function expected(name: string, tree: string): Promise<OracleOutput> {
  return JSON.parse(await readFile(path.join(here, "expected", name, `${tree}.json`), "utf8")) as OracleOutput;
}

type Image = NonNullable<OracleOutput["images"]>[number];
const root = (name: string) => path.join(here, "cases", name, "root");

/** A copy of the output with its first image changed. */
function changed(output: OracleOutput, change: (image: Image, output: OracleOutput) => void): OracleOutput {
  const copy = structuredClone(output);
  change(copy.images![0]!, copy);
  return copy;
}

const edits: [string, string, string, (image: Image, output: OracleOutput) => void][] = [
  ["an environment value", "c02-training", "0.93", (i) => { i.dockerfile = i.dockerfile!.replace("ENV MODEL_NAME='churn-classifier'", "ENV MODEL_NAME='churn'"); }],
  ["a variable set after the installs instead of before", "c02-training", "0.93", (i) => {
    i.dockerfile = i.dockerfile!.replace("ENV MODEL_NAME='churn-classifier'\n", "").replace("COPY . .", "ENV MODEL_NAME='churn-classifier'\nCOPY . .");
  }],
  ["the install order", "c08-replicate-command", "0.93", (i) => { i.requirements_files!.reverse(); i.dockerfile = reorderInstalls(i.dockerfile!); }],
  ["a requirement line", "c02-training", "0.93", (i) => { i.requirements_files![2]!.content = "pandas>=2.0,<3\npyarrow==16.0.0\n"; }],
  ["the installer", "c02-training", "0.93", (i) => { i.dockerfile = i.dockerfile!.replaceAll("uv pip install", "pip install"); }],
  ["an installer flag", "d30-pip-args-buildable", "0.93", (i) => { i.dockerfile = i.dockerfile!.replace("--pre ", ""); }],
  ["an apt package", "c22-apt-sources", "0.93", (i) => { i.apt_packages = [...i.apt_packages!, "vim"]; }],
  ["the user", "c12-newest-fields", "0.93", (i) => { i.dockerfile = i.dockerfile!.replace("USER app", "USER root"); }],
  ["the owner of /app", "c12-newest-fields", "0.93", (i) => { i.dockerfile = i.dockerfile!.replace("RUN chown -R app .", "RUN chown -R root ."); }],
  ["a Dockerfile Docker cannot build", "c12-newest-fields", "0.93", (i) => { i.dockerfile = i.dockerfile!.replace("ENV LOG_LEVEL='debug'", "ENV LOG_LEVEL='de'bug'"); }],
  ["the chmod after the copy", "c01-defaults", "0.58", (i) => { i.dockerfile = i.dockerfile!.replace("\nRUN chmod -R a+rw .", ""); }],
  ["the parent", "c02-training", "0.93", (i) => { i.dockerfile = i.dockerfile!.replace("FROM python:3.11-slim", "FROM python:3.12-slim"); }],
  ["the image name", "c02-training", "0.93", (i) => { i.image = "registry.example.com/zenml:other"; }],
  ["whether the code is included", "c02-training", "0.93", (i) => { i.include_files = false; }],
  ["where the code is downloaded from", "c18-code-repo-clean", "0.93", (i) => { i.download_from_code_repository = false; }],
  ["the step -> image map", "c14-step-overrides", "0.93", (_, o) => { o.steps!["train"] = "orchestrator"; }],
  ["the .dockerignore", "c24-build-config", "0.93", (i) => { i.build_context!.dockerignore = ".dockerignore"; }],
  ["a build option", "c24-build-config", "0.93", (i) => { i.build_options = { ...i.build_options, platform: "linux/amd64" }; }],
  ["a command after the copy", "c07-pyproject-local-project", "0.93", (i) => { i.dockerfile = i.dockerfile!.replace("RUN pip install --no-deps -e .", "RUN pip install -e ."); }],
  ["an accepted configuration", "c23-unknown-key", "0.93", (_, o) => { o.error = "ValidationError"; }],
];

/** Moves every `COPY f .` + `RUN ... -r f` pair into the reverse order. */
function reorderInstalls(dockerfile: string): string {
  const lines = dockerfile.split("\n");
  const first = lines.findIndex((l) => l.startsWith("COPY .zenml"));
  const pairs: string[][] = [];
  let i = first;
  while (lines[i]?.startsWith("COPY .zenml")) pairs.push([lines[i]!, lines[i + 1]!]), (i += 2);
  return [...lines.slice(0, first), ...pairs.reverse().flat(), ...lines.slice(i)].join("\n");
}

describe("the comparison reports", () => {
  it.each(edits)("%s (%s, %s)", async (_what, name, tree, edit) => {
    const original = await expected(name, tree);
    const before = compareViews(zenmlView(original, root(name)), zenmlView(original, root(name)));
    expect(before).toEqual([]);
    const after = compareViews(zenmlView(original, root(name)), zenmlView(changed(original, edit), root(name)));
    expect(after).not.toEqual([]);
  });
});
