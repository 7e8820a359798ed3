import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "vitest";
import { readBuildIndex, recordBuild } from "./build-index.js";

test("the same build result recorded again adds no line; a new digest or builder does, and the last line wins", async () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "dockwright-index-")), ".dockwright", "builds.jsonl");
  const record = { checksum: "c1", tag: "zenml:run-orchestrator", builder: "buildah", digest: "sha256:aa" };
  await recordBuild(file, record);
  await recordBuild(file, { ...record });
  await recordBuild(file, { checksum: "c2", tag: "zenml:run-trainer", builder: "buildah" });
  await recordBuild(file, { ...record, digest: "sha256:bb" });
  await recordBuild(file, { ...record, digest: "sha256:bb" });
  await recordBuild(file, record);
  expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(4);
  expect((await readBuildIndex(file)).get("c1")).toEqual(record);
});
