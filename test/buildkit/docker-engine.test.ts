/**
 * Docker 20.10's engine as a BuildKit daemon (`docker-engine://SOCKET`): its `/grpc` endpoint (an
 * HTTP/1.1 upgrade to h2c, as buildx's docker driver dials it) serves BuildKit's Control API of
 * v0.8 (no Info), takes a raw LLB definition, and calls back into the client's session (opened
 * with Control.Session on the same connection) for the local files and the tarball. Its image
 * exporter (`moby`) ignores the `containerimage.config` attribute: a raw definition's image gets
 * the default config there (a frontend's result metadata would be needed to set one).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type BuildkitClient } from "../../packages/buildkit/src/index.ts";
import { startDocker, type Docker } from "../e2e/support/docker.ts";
import { ok } from "../e2e/support/run.ts";
import { lacks } from "../support/tools.ts";
import { localDefinition } from "./support/llb.ts";

const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-docker-engine-"));

describe.skipIf(lacks("dockerd"))("Docker 20.10's engine as a BuildKit daemon", () => {
  let docker: Docker | undefined;
  let client: BuildkitClient | undefined;
  let skip = "";

  beforeAll(async () => {
    const started = await startDocker();
    if ("skip" in started) skip = started.skip;
    else docker = started;
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await docker?.stop();
    await rm(scratch, { recursive: true, force: true });
  }, 60_000);

  it("serves the Control API on /grpc and builds a raw definition with the session", async (context) => {
    if (!docker) return context.skip(`no Docker engine: ${skip}`);
    client = await connect(`docker-engine://${path.join(docker.dir, "docker.sock")}`);
    await expect(client.info()).rejects.toThrow("unknown method Info for service moby.buildkit.v1.Control");
    const dir = path.join(scratch, "src");
    await mkdir(dir);
    await writeFile(path.join(dir, "hello"), "from the engine\n");
    const dest = path.join(scratch, "out.tar");
    const answer = await client.solve({ definition: localDefinition("src"), locals: { src: dir }, exports: [{ type: "tar", dest }] })
      .then(() => "built", (e: Error) => `error: ${e.message}`);
    console.log(`Docker 20.10 /grpc Solve of a raw definition with a tar export: ${answer}`);
    expect(answer).toBe("built");
    expect(await ok("tar", ["-x", "-O", "-f", dest, "hello"])).toBe("from the engine\n");

    // Its image exporter is `moby` (the engine's image store); it builds the image but ignores the config.
    const config = { architecture: "amd64", os: "linux", config: { Env: ["GREETING=hi"], WorkingDir: "/app", Cmd: ["cat", "/hello"] } };
    await client.solve({ definition: localDefinition("src"), locals: { src: dir }, imageConfig: JSON.stringify(config), exports: [{ type: "moby", name: "dockwright/engine-built:latest" }] });
    const [inspected] = JSON.parse(await docker.ok(["image", "inspect", "dockwright/engine-built:latest"])) as { Config: { Env: string[]; WorkingDir: string; Cmd: string[] | null } }[];
    expect(inspected!.Config).toMatchObject({ Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], WorkingDir: "/", Cmd: null });
    await expect(client.solve({ definition: localDefinition("src"), locals: { src: dir }, exports: [{ type: "image", name: "x" }] })).rejects.toThrow(/exporter "image" could not be found/);
  }, 120_000);
});
