/** Every case of test-data/dockerignore (see its README): the files and folders Docker sends, or Docker's refusal. */
import fs from "node:fs";
import { DiagnosticError } from "@dockwright/core";
import { describe, expect, test } from "vitest";
import { loadDockerignore } from "./dockerignore.js";
import { makeTree } from "./tree.testing.js";
import { listContext, walkContext } from "./walk.js";

type Case = {
  name: string;
  files: string[];
  dirs?: string[];
  dockerignore: string | null;
  symlinks?: Record<string, string>;
  expected: string[] | null;
  expectedDirs?: string[];
  error?: string;
};

const folder = new URL("../test-data/dockerignore/", import.meta.url);
const cases = fs
  .readdirSync(folder)
  .filter((name) => name.endsWith(".json"))
  .sort()
  .map((name) => [name, JSON.parse(fs.readFileSync(new URL(name, folder), "utf8")) as Case] as const);

describe("dockerignore cases", () => {
  test("the folder holds cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(36);
  });

  test.each(cases)("%s", async (_, c) => {
    const root = makeTree({ files: c.files, dirs: c.dirs ?? [], symlinks: c.symlinks ?? {}, dockerignore: c.dockerignore });
    const run = async () => {
      const { patterns } = await loadDockerignore(root);
      return walkContext(root, { patterns });
    };
    if (c.error !== undefined) {
      await expect(run()).rejects.toBeInstanceOf(DiagnosticError);
      await expect(run()).rejects.toThrow(/syntax error in pattern/);
      return;
    }
    const { entries } = await run();
    expect(entries.filter((e) => e.type !== "dir").map((e) => e.path)).toEqual(c.expected);
    expect(entries.filter((e) => e.type === "dir").map((e) => e.path)).toEqual(c.expectedDirs);
    // The listing finds the same entries without reading a single inode.
    const { patterns } = await loadDockerignore(root);
    expect((await listContext(root, { patterns })).entries).toEqual(entries.map(({ path, type }) => ({ path, type })));
  });
});
