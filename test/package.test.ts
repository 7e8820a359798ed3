/**
 * The packages as a user gets them: `npm pack` of every workspace, installed together into a
 * fresh project outside the repository (third-party dependencies from the npm registry, ours only
 * from the tarballs). There the `dockwright` bin runs, a consumer's TypeScript type-checks against
 * the shipped declarations, and the README's library example runs as written.
 *
 * Runs against the build (`npm test` builds first); one `npm install`, a few seconds with npm's cache.
 */
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const repo = path.dirname(import.meta.dirname);
const scratch = mkdtempSync(path.join(tmpdir(), "dockwright-package-"));
const tarballs = path.join(scratch, "tarballs");
const consumer = path.join(scratch, "consumer");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Manifest = {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  license?: string;
  engines?: Record<string, string>;
  types?: string;
  exports?: Record<string, string | Record<string, string>>;
  bin?: Record<string, string>;
  files?: string[];
  dependencies?: Record<string, string>;
};

const root = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")) as Manifest & { workspaces: string[]; devDependencies: Record<string, string> };
/** Every workspace, by its folder: `packages/*` and `plugins/*`. */
const workspaces = root.workspaces.flatMap((pattern) => {
  const parent = pattern.replace(/\/\*$/, "");
  return readdirSync(path.join(repo, parent))
    .map((name) => `${parent}/${name}`)
    .filter((dir) => existsSync(path.join(repo, dir, "package.json")));
});
const manifests = new Map(workspaces.map((dir) => [dir, JSON.parse(readFileSync(path.join(repo, dir, "package.json"), "utf8")) as Manifest]));
const versions = new Map([...manifests.values()].map((m) => [m.name, m.version]));

/** npm as a child of `npm test` must not inherit its workspace and package settings. */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_(config|package|lifecycle)_/i.test(name)));

function run(command: string, args: string[], options: SpawnSyncOptions = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", env: cleanEnv, timeout: 180_000, ...options });
  const output = `${command} ${args.join(" ")}: exit ${result.status}\n${String(result.stdout)}\n${String(result.stderr)}`;
  return { ...result, stdout: String(result.stdout), stderr: String(result.stderr), output };
}

describe.each(workspaces)("%s/package.json", (dir) => {
  const manifest = manifests.get(dir)!;

  test("says what it is, and depends on our packages by a version range", () => {
    expect(manifest.private).toBeUndefined();
    expect(manifest.description).toMatch(/\w{3}/);
    expect(manifest.license).toBe("Apache-2.0");
    expect(manifest.engines?.["node"]).toBe(root.engines?.["node"]);
    expect(manifest.types).toBe("./dist/index.d.ts");
    expect(manifest.exports?.["."]).toEqual({ types: "./dist/index.d.ts", import: "./dist/index.js" });
    expect(existsSync(path.join(repo, dir, "README.md"))).toBe(true);
    for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
      if (versions.has(name)) expect(range, name).toBe(`^${versions.get(name)}`);
    }
  });
});

type Packed = { name: string; filename: string; files: { path: string }[] };
let packed: Packed[] = [];
let install: ReturnType<typeof run>;

beforeAll(() => {
  expect(existsSync(path.join(repo, "packages/cli/dist/index.js")), "run `npm run build` first").toBe(true);
  mkdirSync(tarballs);
  const pack = run("npm", ["pack", "--workspaces", "--json", "--pack-destination", tarballs], { cwd: repo });
  expect(pack.status, pack.output).toBe(0);
  packed = JSON.parse(pack.stdout) as Packed[];

  mkdirSync(consumer);
  writeFileSync(path.join(consumer, "package.json"), `${JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2)}\n`);
  cpSync(path.join(repo, "examples"), path.join(consumer, "examples"), { recursive: true });
  // Our packages come from the tarballs only: npm looks the scope up once while it places them,
  // and a registry that refuses at once (no retries) proves that no answer is needed.
  install = run("npm", [
    "install", "--no-audit", "--no-fund", "--prefer-offline", "--fetch-retries=0", "--@dockwright:registry=http://127.0.0.1:9/",
    ...packed.map((p) => path.join(tarballs, p.filename)),
    `@types/node@${root.devDependencies["@types/node"]}`,
  ], { cwd: consumer });
}, 240_000);

describe("npm pack", () => {
  test("packs every workspace", () => {
    expect(packed.map((p) => p.name).sort()).toEqual([...versions.keys()].sort());
  });

  test("ships what the manifest names, the sources its maps point at, and nothing of development", () => {
    for (const { name, files } of packed) {
      const shipped = new Set(files.map((f) => f.path));
      const dir = [...manifests].find(([, m]) => m.name === name)![0];
      const manifest = manifests.get(dir)!;
      const named = [manifest.types!, ...Object.values(manifest.exports ?? {}).flatMap((e) => (typeof e === "string" ? [e] : Object.values(e))), ...Object.values(manifest.bin ?? {})];
      for (const file of named) expect(shipped, `${name}: ${file}`).toContain(file.replace(/^\.\//, ""));
      const dev = [...shipped].filter((f) => /\.test\.|\.testing\.|tsbuildinfo|test-data\/|^test\//.test(f));
      expect(dev, name).toEqual([]);
      // Every built file has its source (no stale output of a deleted module), so every map resolves.
      for (const file of shipped) {
        const built = /^dist\/(.*)\.(js|d\.ts)(\.map)?$/.exec(file);
        if (built) expect(shipped, `${name}: the source of ${file}`).toContain(`src/${built[1]}.ts`);
      }
    }
  });
});

describe("installed into a fresh project", () => {
  test("npm install of the tarballs takes our packages from them", () => {
    expect(install.status, install.output).toBe(0);
    const lock = JSON.parse(readFileSync(path.join(consumer, "node_modules/.package-lock.json"), "utf8")) as { packages: Record<string, { resolved?: string }> };
    for (const name of versions.keys()) {
      expect(lock.packages[`node_modules/${name}`]?.resolved, name).toMatch(/^file:/);
    }
  });

  test("the dockwright bin compiles the bundled example", () => {
    const bin = path.join(consumer, "node_modules/.bin/dockwright");
    const help = run(bin, ["--help"], { cwd: consumer });
    expect(help.stdout, help.output).toContain("Usage: dockwright <command>");
    const compiled = run(bin, ["compile", "examples/training-pipeline/training.yaml", "--out", "cli-out"], { cwd: consumer });
    expect(compiled.status, compiled.output).toBe(0);
    expect(readFileSync(path.join(consumer, "cli-out/orchestrator/Dockerfile"), "utf8")).toMatch(/^FROM python:3\.11-slim\n/);
  });

  test("a consumer's TypeScript and the README's own-compiler example type-check against the shipped declarations", () => {
    writeFileSync(path.join(consumer, "tsconfig.json"), JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: false, types: ["node"] },
      files: ["consumer.ts", "readme-host.ts"],
    }));
    // The README's example of a compiler of one's own, as written.
    const library = readFileSync(path.join(repo, "README.md"), "utf8").split("\n## The library\n")[1]!;
    writeFileSync(path.join(consumer, "readme-host.ts"), /```ts\n([\s\S]*?)```/.exec(library)![1]!);
    writeFileSync(path.join(consumer, "consumer.ts"), `
import { compileProject, nodeHost, backendNames, type Project, type ProjectImage } from "dockwright";
import { Compiler, formatDiagnostic, type BuildPlan, type CompileHost } from "@dockwright/core";
import { walkContext } from "@dockwright/context";
import { emitDockerfile } from "@dockwright/emit-dockerfile";
import { emitBuildah } from "@dockwright/emit-buildah";
import { emitLlb } from "@dockwright/emit-llb";
import { zenml } from "@dockwright/plugin-zenml";
import { localEnv } from "@dockwright/plugin-local-env";
import { git } from "@dockwright/plugin-git";

const project: Project = await compileProject({ config: { settings: { docker: {} } }, targets: ["dockerfile"], mode: "plain" });
const image: ProjectImage | undefined = project.images[0];
const dockerfile: string | Uint8Array | undefined = image?.files.dockerfile?.["Dockerfile"];
const messages: string[] = project.diagnostics.map(formatDiagnostic);
const host: CompileHost = await nodeHost({ root: ".", out: "out" });
const compiler = new Compiler([zenml(), localEnv(), git()]);
const plan: BuildPlan | undefined = (await compiler.compile({ config: {}, pipelineName: "p", host })).plan;
for (const each of plan?.images ?? []) [emitDockerfile(each), emitBuildah(each), emitLlb(each)].map((a) => a.files.length);
const entries: number = (await walkContext(".")).entries.length;
console.log(backendNames.length, dockerfile, messages, entries);
// @ts-expect-error the exports map blocks deep imports
await import("@dockwright/core/dist/ir.js");
`);
    const tsc = run(process.execPath, [path.join(repo, "node_modules/typescript/bin/tsc"), "-p", consumer], { cwd: consumer });
    expect(tsc.status, tsc.output).toBe(0);
  });

  test("the README's library example runs as written", () => {
    const readme = readFileSync(path.join(repo, "README.md"), "utf8");
    const library = readme.slice(readme.indexOf("\n## The library\n"));
    const block = /```js\n([\s\S]*?)```/.exec(library)?.[1];
    expect(block, "a ```js block under ## The library").toBeDefined();
    writeFileSync(path.join(consumer, "readme-example.mjs"), block!);
    const example = run(process.execPath, ["readme-example.mjs"], { cwd: consumer });
    expect(example.status, example.output).toBe(0);
    expect(example.stdout).toBe(readFileSync(path.join(consumer, "dockwright-out/orchestrator/Dockerfile"), "utf8") + "\n");
    expect(example.stdout).toMatch(/^FROM python:3\.11-slim\nWORKDIR \/app\n/);
  });
});
