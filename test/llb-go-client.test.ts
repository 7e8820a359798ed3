/**
 * The LLB backend's op digests equal those of BuildKit v0.11.6's Go client (the daemon in CI is
 * v0.11.6), for every image of the golden fixtures: each fixture compiled as the golden test does,
 * every op of each llb.pb hashed, against `llb-go-client/digests.json`, which
 * that client marshalled for the same graphs (how: `llb-go-client/README.md`). Equal digests are
 * equal bytes, so equal cache keys with builds that use the Go client, such as buildctl's own and
 * the Dockerfile frontend's.
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, describe, expect, it } from "vitest";
import { DefinitionSchema } from "../packages/buildkit/src/gen/github.com/moby/buildkit/solver/pb/ops_pb.ts";
import { compileGoldenCase, goldenFixtures as fixtures, type CompiledCase } from "./support/golden.ts";
import { lacks, toolPath } from "./support/tools.ts";

const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-llb-go-client-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));
const goClient = JSON.parse(await readFile(path.join(import.meta.dirname, "llb-go-client", "digests.json"), "utf8")) as Record<string, string[]>;
const images = readdirSync(fixtures).sort().flatMap((name) => {
  const expected = path.join(fixtures, name, "expected");
  if (!existsSync(expected)) return [];
  return readdirSync(expected).sort().filter((image) => existsSync(path.join(expected, image, "llb.json"))).map((image) => `${name}/${image}`);
});

const compiled = new Map<string, Promise<CompiledCase>>();

/** The marshalled ops of the image's llb.pb, read by the client package's decoder (not the emitter's). */
async function opsOf(key: string): Promise<Uint8Array[]> {
  const [name, image] = key.split("/") as [string, string];
  if (!compiled.has(name)) compiled.set(name, compileGoldenCase(name, scratch));
  const { out } = await compiled.get(name)!;
  return fromBinary(DefinitionSchema, await readFile(path.join(out, image, "llb.pb"))).def;
}

const digestOf = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

describe("LLB op digests against BuildKit v0.11.6's Go client", () => {
  it("covers every golden image with a definition, and no other", () => {
    expect(images.length).toBeGreaterThan(20);
    expect(Object.keys(goClient).sort()).toEqual(images);
  });

  it.each(images)("%s: every op digest is the Go client's", async (key) => {
    const ops = (await opsOf(key)).map(digestOf);
    expect(ops.sort()).toEqual(goClient[key]);
  });

  // The one place where client versions differ for Dockwright's graphs: v0.16 and later write a
  // secret mount's input as -1, v0.11.6 leaves it unset. BuildKit's own ops.proto decodes it.
  it.skipIf(lacks("protoc"))("a secret mount has no input, as v0.11.6's AddSecret writes it (protoc --decode pb.Op)", async () => {
    const proto = path.join(import.meta.dirname, "..", "packages", "buildkit", "proto");
    const decoded = (await opsOf("build-secrets/orchestrator")).map((op) => {
      const result = spawnSync(toolPath("protoc")!, ["-I", proto, "--decode", "pb.Op", "github.com/moby/buildkit/solver/pb/ops.proto"], { input: op, encoding: "utf8" });
      if (result.status !== 0) throw new Error(result.stderr);
      return result.stdout;
    });
    const secretMounts = decoded.flatMap((text) => text.match(/mounts \{\n(?:(?!  \}\n)[\s\S])*?mountType: SECRET[\s\S]*?\n  \}\n/g) ?? []);
    expect(secretMounts).toHaveLength(4);
    for (const mount of secretMounts) {
      expect(mount).not.toMatch(/^\s+input:/m);
      expect(mount).toMatch(/secretOpt \{\n\s+ID: "[\w-]+"\n\s+mode: 256\n/);
    }
  });
});
