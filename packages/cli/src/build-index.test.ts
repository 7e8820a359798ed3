import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "vitest";
import { readBuildIndex, recordBuild } from "./build-index.js";

test("the same build result recorded again, in this run or the next, adds no line; a new digest or builder does, and the last line wins", async () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "dockwright-index-")), ".dockwright", "builds.jsonl");
  const record = { checksum: "c1", tag: "zenml:run-orchestrator", builder: "buildah", digest: "sha256:aa" };
  const known = await readBuildIndex(file);
  await recordBuild(file, record, known);
  await recordBuild(file, { ...record }, known);
  await recordBuild(file, { checksum: "c2", tag: "zenml:run-trainer", builder: "buildah" }, known);
  await recordBuild(file, { ...record, digest: "sha256:bb" }, known);
  await recordBuild(file, { ...record, digest: "sha256:bb" }, known);
  await recordBuild(file, record, known);
  expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(4);
  expect((await readBuildIndex(file)).get("c1")).toEqual(record);
  // The next run reads the index once and adds nothing for the same result.
  await recordBuild(file, { ...record }, await readBuildIndex(file));
  expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(4);
});
