/**
 * The end-to-end fixtures built on a real buildkitd through the native client and through
 * buildctl (each route on a daemon of its own, so neither reuses the other's cache): equal images
 * (config, every file's path, type, mode, owner, size, content or link target, and what the
 * stand-in installers recorded). Then a one-file source change: FileSync re-sends only that file
 * and only the sources step runs again. And build secrets: they reach the installers, never the
 * image, the progress or the plan; a missing one fails by name.
 */
import { readFile, rm, writeFile, mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, progressPrinter, type BuildEvent, type BuildkitClient } from "../../packages/buildkit/src/index.ts";
import { pushBaseImage } from "../e2e/support/buildah.ts";
import { fixtureNames, secretEnv, type Fixture } from "../e2e/support/fixtures.ts";
import { startBuildkitd, type Buildkitd } from "../support/buildkitd.ts";
import { startRegistry, type Registry } from "../support/registry.ts";
import { lacks } from "../support/tools.ts";
import { buildNative, buildWithBuildctlTool, nativeRequest, registryFixture, viewOci, type BuiltView } from "./support/fixtures.ts";

const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-buildkit-fixtures-"));
const timings = { native: 0, buildctl: 0 };

describe.skipIf(lacks("buildkitd", "buildctl", "buildah", "registry", "runc"))("BuildKit builds of the end-to-end fixtures", () => {
  let registry: Registry;
  let native: Buildkitd;
  let viaBuildctl: Buildkitd;
  let client: BuildkitClient;
  let parent: string;
  const fixtures = new Map<string, Fixture>();

  beforeAll(async () => {
    registry = await startRegistry();
    parent = await pushBaseImage(registry.host);
    [native, viaBuildctl] = await Promise.all([startBuildkitd({ registries: [registry.host] }), startBuildkitd({ registries: [registry.host] })]);
    client = await connect(native.address, { env: { ...process.env, ...secretEnv } });
  }, 180_000);

  afterAll(async () => {
    client?.close();
    await native?.stop();
    await viaBuildctl?.stop();
    await registry?.stop();
    await rm(scratch, { recursive: true, force: true });
    console.log(`BuildKit fixture builds (${fixtures.size} fixtures): native client ${(timings.native / 1000).toFixed(1)} s, buildctl ${(timings.buildctl / 1000).toFixed(1)} s`);
  }, 60_000);

  it.each(fixtureNames)("%s: the native client's image equals buildctl's", async (name) => {
    const work = path.join(scratch, name);
    const fixture = await registryFixture(name, work, parent);
    fixtures.set(name, fixture);
    let start = performance.now();
    await buildNative(client, fixture, path.join(work, "native.tar"));
    timings.native += performance.now() - start;
    start = performance.now();
    await buildWithBuildctlTool(viaBuildctl.address, fixture, path.join(work, "buildctl.tar"));
    timings.buildctl += performance.now() - start;
    const strip = ({ root: _, ...view }: BuiltView & { root: string }) => view;
    const ours = strip(await viewOci(path.join(work, "native.tar"), path.join(work, "native")));
    const theirs = strip(await viewOci(path.join(work, "buildctl.tar"), path.join(work, "buildctl")));
    expect(ours.tree.length).toBeGreaterThan(100);
    expect(ours).toEqual(theirs);
    expect(ours.records["calls"] ?? "").not.toBe("");
  }, 300_000);

  it("after a change of one source file, sends only that file and runs only the sources step", async () => {
    const fixture = fixtures.get("every-requirements-source")!;
    const work = path.join(scratch, "resync");
    // The daemon keeps one copy per source name and shared key, which the other fixtures' builds
    // replaced since: this build brings it back to this fixture's files.
    await buildNative(client, fixture, path.join(work, "warm.tar"));
    const changed = path.join(fixture.context, "pipelines", "train.py");
    const text = 'print("pipeline, changed once")\n';
    await writeFile(changed, text);
    const events: BuildEvent[] = [];
    await buildNative(client, fixture, path.join(work, "again.tar"), events);
    const syncs = events.filter((e) => e.type === "sync");
    expect(syncs.find((e) => e.name === "context")).toMatchObject({ files: 1, bytes: Buffer.byteLength(text) });
    expect(syncs.find((e) => e.name === "generated")).toMatchObject({ files: 0, bytes: 0 });
    console.log(`re-sync after a one-file change: ${syncs.map((e) => `${e.name} ${e.files} file(s), ${e.bytes} bytes`).join("; ")}`);

    const steps = events.filter((e) => e.type === "step" && e.state !== "started") as Extract<BuildEvent, { type: "step" }>[];
    // Loading the sources, resolving the parent and exporting happen on every build; of the build
    // steps, only the sources' copy ran, and what follows it (the permissions of the copied files).
    const ran = steps.filter((s) => s.state === "done" && !/^(\[internal\]|FROM |exporting )/.test(s.name)).map((s) => s.name);
    expect(ran[0]).toBe("COPY . /app/");
    expect(ran.slice(1).filter((name) => /install|apt-get|requirements/.test(name))).toEqual([]);
    expect(steps.filter((s) => s.state === "cached" && /RUN|install|apt/.test(s.name)).length).toBeGreaterThan(3);
    const view = await viewOci(path.join(work, "again.tar"), path.join(work, "again"));
    expect(await readFile(path.join(view.root, "app/pipelines/train.py"), "utf8")).toBe(text);
  }, 300_000);

  it("serves build secrets to the installers only, and fails by name on a missing one", async () => {
    const fixture = fixtures.get("build-secrets")!;
    const work = path.join(scratch, "secrets");
    const values = [secretEnv.DOCKWRIGHT_TEST_INDEX_URL, (await readFile(path.join(fixture.root, "secrets/netrc"), "utf8")).trim()];
    let printed = "";
    const events: BuildEvent[] = [];
    const print = progressPrinter((t) => (printed += t));
    await client.solve(await nativeRequest(fixture, path.join(work, "image.tar")), { onEvent: (e) => (events.push(e), print(e)) });
    const view = await viewOci(path.join(work, "image.tar"), path.join(work, "image"));
    expect(view.records["calls"]).toContain("[PIP_INDEX_URL is set] [/root/.netrc is there]");
    // Never in the image's files, the progress, or the plan's files.
    const haystacks = [printed, JSON.stringify(events), ...(await filesUnder(view.root)), ...(await filesUnder(path.dirname(fixture.folder)))];
    for (const value of values) expect(haystacks.filter((text) => text.includes(value))).toEqual([]);

    // Another install command, so that the daemon runs it again instead of taking it from its cache.
    const changed = await registryFixture("build-secrets", path.join(work, "changed"), parent, (config) => config.replace("private-package==1.0", "private-package==1.1"));
    const request = await nativeRequest(changed, path.join(work, "missing.tar"));
    await expect(client.solve({ ...request, secrets: { netrc: request.secrets!["netrc"]! } })).rejects.toThrow(/^the build failed: .*secret index: not found/);
    await expect(client.solve({ ...request, secrets: { ...request.secrets, index: { env: "DOCKWRIGHT_TEST_UNSET_VARIABLE" } } }))
      .rejects.toThrow('the build secret "index" reads the variable DOCKWRIGHT_TEST_UNSET_VARIABLE, which is not set. Set it before building.');
    expect(await readdir(work)).not.toContain("missing.tar");
  }, 300_000);
});

/** The text of every regular file under `dir`. */
async function filesUnder(dir: string): Promise<string[]> {
  const texts: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) texts.push(await readFile(path.join(entry.parentPath, entry.name), "latin1"));
  }
  return texts;
}
