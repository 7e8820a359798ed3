/**
 * The image exporter with push, and a registry cache, to a registry that wants a password: the
 * daemon asks the session's Auth service, which answers from the `credentials` callback; without
 * credentials the push fails with the registry's answer. The registry is Debian's docker-registry
 * with an htpasswd file.
 */
import { spawn } from "node:child_process";
import { openSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type BuildkitClient } from "../../packages/buildkit/src/index.ts";
import { ok } from "../e2e/support/run.ts";
import { startBuildkitd, type Buildkitd } from "../support/buildkitd.ts";
import { stopDaemon } from "../support/daemon.ts";
import { freePort } from "../support/registry.ts";
import { lacks, toolPath } from "../support/tools.ts";
import { localDefinition } from "./support/llb.ts";

const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-buildkit-push-"));
const user = { username: "pusher", secret: "not-a-real-password" };

describe.skipIf(lacks("buildkitd", "registry", "htpasswd"))("pushing through the native client", () => {
  let daemon: Buildkitd;
  let client: BuildkitClient;
  let host: string;
  let registry: ReturnType<typeof spawn>;
  const asked: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    const htpasswd = path.join(scratch, "htpasswd");
    await ok(toolPath("htpasswd")!, ["-B", "-b", "-c", htpasswd, user.username, user.secret]);
    const config = path.join(scratch, "registry.yml");
    await writeFile(config, [
      "version: 0.1",
      "log: {level: warn}",
      `storage: {filesystem: {rootdirectory: ${JSON.stringify(path.join(scratch, "data"))}}}`,
      `http: {addr: ${JSON.stringify(host)}}`,
      `auth: {htpasswd: {realm: test, path: ${JSON.stringify(htpasswd)}}}`,
      "",
    ].join("\n"));
    const log = path.join(scratch, "registry.log");
    registry = spawn(toolPath("registry")!, ["serve", config], { stdio: ["ignore", openSync(log, "a"), openSync(log, "a")] });
    for (let i = 0; (await fetch(`http://${host}/v2/`).then((r) => r.status, () => 0)) !== 401; i++) {
      if (i > 150) throw new Error("the registry did not start");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    daemon = await startBuildkitd({ registries: [host] });
    client = await connect(daemon.address, { credentials: (h) => (asked.push(h), h === host ? user : undefined) });
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await daemon?.stop();
    if (registry) await stopDaemon(registry);
    await rm(scratch, { recursive: true, force: true });
  }, 60_000);

  it("pushes an image and a cache with the credentials the callback gives for the registry's host", async () => {
    const dir = path.join(scratch, "src");
    await mkdir(dir);
    await writeFile(path.join(dir, "hello"), "pushed\n");
    const name = `${host}/dockwright/pushed:latest`;
    const { exporterResponse } = await client.solve({
      definition: localDefinition("src"),
      locals: { src: dir },
      imageConfig: JSON.stringify({ architecture: "amd64", os: "linux", config: { Env: ["A=1"] } }),
      exports: [{ type: "image", name, push: true }],
    });
    expect(asked).toContain(host);
    expect(exporterResponse["image.name"]).toBe(name);
    const manifest = await fetch(`http://${host}/v2/dockwright/pushed/manifests/latest`, {
      headers: { authorization: `Basic ${Buffer.from(`${user.username}:${user.secret}`).toString("base64")}`, accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    expect(manifest.status).toBe(200);

    // A registry cache, exported with the same credentials, then imported by the next build.
    const cache = { type: "registry", attrs: { ref: `${host}/dockwright/cache:latest`, mode: "max" } };
    await client.solve({ definition: localDefinition("src"), locals: { src: dir }, exports: [{ type: "image", name }], cacheExports: [cache] });
    const cached = await fetch(`http://${host}/v2/dockwright/cache/manifests/latest`, {
      headers: { authorization: `Basic ${Buffer.from(`${user.username}:${user.secret}`).toString("base64")}`, accept: "application/vnd.oci.image.index.v1+json" },
    });
    expect(cached.status).toBe(200);
    await client.solve({ definition: localDefinition("src"), locals: { src: dir }, exports: [{ type: "image", name }], cacheImports: [cache] });

    const anonymous = await connect(daemon.address);
    await expect(anonymous.solve({ definition: localDefinition("src"), locals: { src: dir }, exports: [{ type: "image", name: `${host}/dockwright/denied:latest`, push: true }] }))
      .rejects.toThrow(/^the build failed: .*(401 Unauthorized|unauthorized)/);
    anonymous.close();
  }, 120_000);
});
