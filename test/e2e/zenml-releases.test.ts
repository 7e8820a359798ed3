/**
 * Real Buildah builds of oracle cases, each for two ZenML releases, with a non-root user: what
 * ZenML's own Dockerfile for that release installs (the oracle's expected output), our image
 * installs too, in the same order and with the same requirements; and `/app` ends as ZenML
 * leaves it (`chmod -R a+rw .`, `chown -R <user> .`): every entry writable by the image's user and
 * by any other UID, owned by the user, and ZenML's config and code folders creatable by both.
 *
 * The parent is the test base image, whose `pip`, `uv` and `apt-get` are stand-ins that record
 * their calls (no index is reachable here).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseImage, testUser } from "./support/base-image.ts";
import { buildahBaseImage, createBuildah, type Buildah } from "./support/buildah.ts";
import { dockwrightBuild } from "./support/fixtures.ts";
import { logicalLines } from "../zenml-oracle/semantics.ts";
import { lacks } from "../support/tools.ts";

const oracle = path.join(import.meta.dirname, "..", "zenml-oracle");
/** Each case with a user (set here where the case has none) and the two releases it is built for. */
const builds: [name: string, releases: [string, string]][] = [
  // From 0.74 its `PATH=/opt/tools/bin:$PATH` stays literal (ZenML quotes it): no release after builds it.
  ["c06-user-env", ["0.60", "0.73"]],
  ["c13-install-order", ["0.83", "0.93"]],
  ["d04-local-project-user", ["0.82", "0.93"]],
];
const otherUid = "4242:4242";

const noBuildah = lacks("buildah", "busybox");
const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-e2e-releases-"));
let buildah: Buildah;

beforeAll(async () => {
  if (noBuildah) return;
  buildah = await createBuildah();
  await buildahBaseImage(buildah);
}, 120_000);

afterAll(async () => {
  await buildah?.destroy();
  await rm(scratch, { recursive: true, force: true });
});

type Oracle = { images: { dockerfile: string; requirements_files: { name: string; content: string }[] }[] };

/** One installer call, as both sides can say it: `uv -r FILE`, `pip install uv`, `apt-get install PKGS`, or the command. */
function normalized(tool: string, args: string[]): string {
  const file = args[args.indexOf("-r") + 1];
  if (args.includes("-r") && file) return `${tool} -r ${path.posix.basename(file)}`;
  if (tool === "apt-get") return ["apt-get", ...args.filter((a) => !a.startsWith("-"))].join(" ");
  return [tool, ...args].join(" ");
}

/** The calls ZenML's Dockerfile makes, in order. */
function zenmlCalls(dockerfile: string): string[] {
  const runs = dockerfile.split("\n").filter((line) => line.startsWith("RUN ")).map((line) => line.slice(4));
  return runs.flatMap((command) => command.split(" && ")).filter((c) => !c.startsWith("chmod ") && !c.startsWith("chown ")).map((c) => {
    const [tool = "", ...args] = c.split(" ");
    return normalized(tool, args);
  });
}

/** The calls the stand-ins recorded, in order (one line each: tool, arguments, then bracketed notes). */
function recordedCalls(log: string): string[] {
  return log.trimEnd().split("\n").map((line) => {
    const [tool = "", ...args] = line.replace(/( \[[^\]]*\])+$/, "").split(" ");
    return normalized(tool, args);
  });
}

/** Runs a shell script in a new container of the image, as `user` (default: the image's). */
async function inContainer(image: string, user: string | undefined, script: string) {
  const container = (await buildah.ok(["from", "--pull-never", image])).trim();
  try {
    return await buildah.run(["run", ...(user ? ["--user", user] : []), container, "--", "sh", "-c", script]);
  } finally {
    await buildah.run(["rm", container]);
  }
}

describe.skipIf(noBuildah).each(builds)("%s", (name, releases) => {
  it.each(releases)("ZenML %s: the installs in ZenML's order, and /app writable by the user and by any UID", { timeout: 300_000 }, async (release) => {
    const work = await mkdtemp(path.join(scratch, `${name}-${release}-`));
    const root = path.join(work, "root");
    await cp(path.join(oracle, "cases", name, "root"), root, { recursive: true });
    // The run configuration in the source root, as the oracle runs ZenML there.
    const config = parse(await readFile(path.join(oracle, "cases", name, "run.yaml"), "utf8")) as { settings: { docker: Record<string, unknown> } };
    Object.assign(config.settings.docker, { parent_image: baseImage, user: testUser.name });
    // ZenML writes this one into an ENV line Docker cannot parse (the differential suite covers it); the rest builds.
    delete (config.settings.docker["environment"] as Record<string, unknown> | undefined)?.["greeting"];
    await writeFile(path.join(root, "run.yaml"), stringify(config));

    const out = path.join(work, "out");
    const built = await dockwrightBuild(["run.yaml", "--builder", "buildah", "--root", root, "--out", out, "--zenml-version", release, "--pipeline", "p"], buildah.env, root);
    expect(built.code, built.stderr).toBe(0);
    const tag = /^(\S+): built with buildah$/m.exec(built.stdout)?.[1];
    expect(tag, built.stdout).toBeDefined();

    const expected = JSON.parse(await readFile(path.join(oracle, "expected", name, `${release}.json`), "utf8")) as Oracle;
    const zenml = expected.images[0]!;
    await buildah.withRootfs(tag!, async (rootfs) => {
      const log = path.join(rootfs, "var/log/dockwright");
      expect(recordedCalls(await readFile(path.join(log, "calls"), "utf8"))).toEqual(zenmlCalls(zenml.dockerfile));
      // Each requirements file the installers read holds what ZenML's holds.
      const files = new Map(zenml.requirements_files.map((f) => [f.name, logicalLines(f.content)]));
      const installed = zenmlCalls(zenml.dockerfile).filter((call) => call.includes(" -r ")).map((call) => call.split(" -r ")[1]!);
      for (const [i, file] of installed.entries()) {
        expect(logicalLines(await readFile(path.join(log, "requirements", `${i + 1}-${file}`), "utf8")), file).toEqual(files.get(file));
      }
    });

    // `chown -R <user> .` owns everything by the user; the group stays root's.
    const owners = await inContainer(tag!, undefined, `find /app ! -type l \\( ! -user ${testUser.uid} -o ! -group 0 \\) -print`);
    expect(owners).toMatchObject({ code: 0, stdout: "" });
    // Each in a container of its own, as each run of the image is.
    const check = [
      "cd /app",
      // Every entry but a link (chmod -R leaves links) writable by whoever runs this.
      'bad=$(find . ! -type l | while read -r f; do [ -w "$f" ] || echo "$f"; done)',
      '[ -z "$bad" ] || { echo "not writable by $(id -u): $bad"; exit 1; }',
      // ZenML writes its config here and downloads code next to it.
      "mkdir -p .zenconfig code && touch .zenconfig/test code/test",
    ].join("\n");
    for (const user of [testUser.name, otherUid]) {
      const result = await inContainer(tag!, user, check);
      expect(result.code, `${user}: ${result.stdout}${result.stderr}`).toBe(0);
    }
  });
});
