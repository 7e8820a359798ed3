/**
 * One image, whatever the builder (#16): every golden fixture that builds, its parents the test
 * registry's base image, built along the five routes of `support/routes.ts`; each image's config,
 * whole file tree and installers' records must equal the Buildah script's, but for the builders'
 * own artefacts and the refusals listed once below, each with why. The end-to-end fixtures'
 * routes are compared by test/e2e/builds.test.ts (Buildah, Docker) and test/buildkit/ (BuildKit).
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { goldenFixtures } from "../support/golden.ts";
import { lacks } from "../support/tools.ts";
import { describeDifference, differences, type Artefact, type Difference } from "./support/compare.ts";
import { buildRoute, fixtureCase, routeNames, startDaemons, type Case, type Daemons, type Outcome, type RouteName, type View } from "./support/routes.ts";

/** Golden fixtures that build nothing: invalid settings; an image used as it is. */
const unbuildable = new Set(["error-invalid-settings", "skip-build"]);
const cases = readdirSync(goldenFixtures).filter((name) => existsSync(path.join(goldenFixtures, name, "run.yaml")) && !unbuildable.has(name)).sort();

/** A file or folder of the script's image, empty, that the route's image lacks. */
const leftEmpty = (paths: RegExp) => (d: Difference) =>
  d.kind === "file" && paths.test(d.path) && d.want !== undefined && d.got === undefined && (d.want.type === "dir" || d.want.size === 0);

/** Differences that are the builders' own. */
const artefacts: Artefact[] = [
  {
    routes: ["docker-buildkit", "docker-legacy", "buildkit"],
    what: "empty /etc/hosts, /etc/hostname, /etc/resolv.conf and /run",
    why: "Buildah (script and bud) bind-mounts its own files there in every RUN and commits the empty files and folder it mounted on",
    matches: leftEmpty(/^(etc\/(hosts|hostname|resolv\.conf)|run)$/),
  },
  {
    routes: ["bud", "docker-buildkit", "docker-legacy", "buildkit"],
    what: "the empty mount points of the script's cache and secret mounts (/root/.cache/{pip,uv}, /var/cache/apt, /var/lib/apt, /run/secrets/*, /root/.netrc) and the folders made for them",
    why: "`buildah run --mount` commits the mount points it made; `buildah bud` and BuildKit remove them, the legacy builder mounts nothing",
    matches: leftEmpty(/^(root\/\.cache(\/(pip|uv))?|var\/(cache|lib)(\/apt(\/lists)?)?|run\/secrets(\/[^/]+)?|root\/\.netrc)$/),
  },
  {
    routes: ["docker-legacy"],
    what: "empty /proc, /sys and /dev",
    why: "the legacy builder's layers leave out the container's mount points, which Buildah and runc (BuildKit) commit as empty folders",
    matches: leftEmpty(/^(proc|sys|dev)$/),
  },
  {
    routes: ["docker-legacy"],
    what: "pip and uv called with --no-cache-dir, and an empty /var/lib/apt/lists",
    why: "the legacy builder has no cache mounts: the plain Dockerfile keeps the installers' caches out of the image instead (`rm -rf /var/lib/apt/lists/*` leaves the folder)",
    matches: (d) =>
      (d.kind === "record" && d.file === "calls" && d.got?.replaceAll(" --no-cache-dir", "") === d.want) ||
      (d.kind === "file" && d.path === "var/lib/apt/lists" && d.want === undefined && d.got?.type === "dir"),
  },
  {
    routes: ["docker-legacy"],
    what: "a longer /app/.dockerignore",
    why: "with a Dockerfile outside the context, the legacy client appends the Dockerfile's name to the context's .dockerignore (docker/cli AddDockerfileToBuildContext), and COPY . . copies that",
    matches: (d) => d.kind === "file" && d.path === "app/.dockerignore" && d.want !== undefined && d.got !== undefined && (d.got.size ?? 0) > (d.want.size ?? 0),
  },
];

/** Routes that refuse a fixture by design, with why. */
type Refusal = { route: RouteName; fixture: string; code: number; says: RegExp; what: string; why: string };
const refusals: Refusal[] = [
  {
    route: "docker-legacy", fixture: "build-secrets", code: 2, says: /error UNSUPPORTED_BY_BACKEND at secrets/,
    what: "the legacy builder refuses build secrets", why: "the plain Dockerfile cannot mount a secret without storing it in the image",
  },
  {
    route: "docker-legacy", fixture: "sources-dockerignore", code: 2, says: /error INVALID_DOCKERIGNORE at \.dockerignore/,
    what: "the legacy builder refuses a .dockerignore that excludes staged files", why: "it applies .dockerignore to the staged context again",
  },
];

const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-routes-"));
const seconds = Object.fromEntries(routeNames.map((r) => [r, 0])) as Record<RouteName, number>;
const seen = new Set<Artefact | Refusal>();
let casesDone = 0;

describe.skipIf(lacks("buildah", "busybox", "dockerd", "buildkitd", "registry", "runc"))("one image whatever the builder", () => {
  let daemons: Daemons;
  const started = performance.now();

  beforeAll(async () => {
    daemons = await startDaemons();
  }, 180_000);

  afterAll(async () => {
    await daemons?.stop();
    await rm(scratch, { recursive: true, force: true });
    const total = ((performance.now() - started) / 1000).toFixed(0);
    console.log(`${casesDone} of ${cases.length} fixtures equal along ${routeNames.length} routes in ${total} s; each route's build time (Buildah's routes run beside the daemons'):\n${routeNames.map((r) => `  ${r.padEnd(16)} ${seconds[r].toFixed(1)} s`).join("\n")}`);
  }, 120_000);

  it.each(cases)("%s: every route gives the script's image", async (name) => {
    const c: Case = await fixtureCase(goldenFixtures, name, path.join(scratch, name), daemons);
    const outcomes = new Map<RouteName, Outcome>();
    const timed = async (route: RouteName) => {
      const start = performance.now();
      outcomes.set(route, await buildRoute(route, c, daemons));
      seconds[route] += (performance.now() - start) / 1000;
    };
    // Buildah's two routes share its storage, one after the other; the daemons' routes meanwhile.
    const lane = async (routes: RouteName[]) => { for (const route of routes) await timed(route); };
    await Promise.all([lane(["script", "bud"]), lane(["docker-buildkit", "docker-legacy", "buildkit"])]);
    const script = outcomes.get("script")!;
    if (!("views" in script)) throw new Error(`the script route failed (${script.code}):\n${script.stderr.slice(-3000)}`);
    const report: string[] = [];
    for (const route of routeNames.filter((r) => r !== "script")) {
      const outcome = outcomes.get(route)!;
      const refusal = refusals.find((r) => r.route === route && r.fixture === name);
      if (refusal) seen.add(refusal);
      if (!("views" in outcome)) {
        if (!refusal || outcome.code !== refusal.code || !refusal.says.test(outcome.stderr)) report.push(`${route}: exit code ${outcome.code}: ${outcome.stderr.slice(-1500)}`);
        continue;
      }
      if (refusal) report.push(`${route}: built, though listed as refusing: ${refusal.what}`);
      for (const [key, view] of outcome.views) {
        const left = differences(script.views.get(key)!, view).filter((d) => !artefactOf(route, d));
        report.push(...left.map((d) => `${route} ${key}: ${describeDifference(d)}`));
      }
    }
    expect(report).toEqual([]);
    casesDone++;
  }, 900_000);

  it("routes/empty-directories: every route keeps empty directories and those whose files are all excluded, as Docker's COPY does", async () => {
    // Git keeps no empty directory: made here.
    const c = await fixtureCase(path.join(import.meta.dirname, "fixtures"), "empty-directories", path.join(scratch, "routes-empty-directories"), daemons,
      (root) => mkdir(path.join(root, "data", "raw"), { recursive: true }).then(() => undefined));
    const report: string[] = [];
    let script: Map<string, View> | undefined;
    for (const route of routeNames) {
      const outcome = await buildRoute(route, c, daemons);
      if (!("views" in outcome)) throw new Error(`${route} failed (${outcome.code}):\n${outcome.stderr.slice(-3000)}`);
      const [view] = [...outcome.views.values()];
      const app = view!.tree.filter((e) => e.path.startsWith("app/") && !e.path.startsWith("app/.zenml_")).map((e) => `${e.type} ${e.path}`);
      expect(app, route).toEqual(["file app/.dockerignore", "dir app/data", "dir app/data/raw", "dir app/logs", "dir app/pipelines", "file app/pipelines/train.py"]);
      if (!script) script = outcome.views;
      else report.push(...differences(script.get(c.images[0]!.key)!, view!).filter((d) => !artefactOf(route, d)).map((d) => `${route}: ${describeDifference(d)}`));
    }
    expect(report).toEqual([]);
  }, 900_000);

  // A listed artefact or refusal that no build shows any more is stale: take it off the list.
  it("every listed artefact and refusal still occurs", (context) => {
    if (casesDone < cases.length) return context.skip("not every fixture was built in this run");
    expect([...artefacts, ...refusals].filter((a) => !seen.has(a)).map((a) => a.what)).toEqual([]);
  });
});

function artefactOf(route: RouteName, d: Difference): Artefact | undefined {
  const artefact = artefacts.find((a) => a.routes.includes(route) && a.matches(d));
  if (artefact) seen.add(artefact);
  return artefact;
}
