/** Every case of test-data/dockerignore (see its README): the files Docker sends, or Docker's refusal. */
import fs from "node:fs";
import { DiagnosticError } from "@dockwright/core";
import { describe, expect, test } from "vitest";
import { loadDockerignore } from "./dockerignore.js";
import { makeTree } from "./tree.testing.js";
import { walkContext } from "./walk.js";

type Case = {
  name: string;
  files: string[];
  dockerignore: string | null;
  symlinks?: Record<string, string>;
  expected: string[] | null;
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
    expect(cases.length).toBeGreaterThan(0);
  });

  test.each(cases)("%s", async (_, c) => {
    const root = makeTree({ files: c.files, symlinks: c.symlinks ?? {}, dockerignore: c.dockerignore });
    const run = async () => {
      const { patterns } = await loadDockerignore(root);
      return (await walkContext(root, { patterns })).entries.map((e) => e.path);
    };
    if (c.error !== undefined) {
      await expect(run()).rejects.toBeInstanceOf(DiagnosticError);
      await expect(run()).rejects.toThrow(/syntax error in pattern/);
    } else {
      expect(await run()).toEqual(c.expected);
    }
  });
});
