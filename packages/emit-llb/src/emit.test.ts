import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import type { Artifacts, ImagePlan, Installer, Layer } from "@dockwright/core";
import { describe, expect, test } from "vitest";
import { lacks, toolPath } from "../../../test/support/tools.ts";
import { decodeDefinition, emitLlb, type DumpLlbJson } from "./index.js";

// ---------------------------------------------------------------------------------------------
// Hand-built plans

const hostileEnv: [string, string][] = [
  ["QUOTES", `it's "quoted" \`tick\``],
  ["SUBSHELL", "$(touch /tmp/pwned) ${HOME} $HOME"],
  ["NEWLINES", "line one\nline two\r\n\ttabbed"],
  ["UNICODE", "ünïcødé € 😀 \u2028 中文"],
  ["EQUALS", "a=b=c"],
  ["BACKSLASH", "C:\\path\\ and \\n"],
  ["EMPTY", ""],
  ["HTML", "<b>&amp;</b>"],
];

const pip: Installer = { tool: "pip", args: ["--default-timeout=60"], noCache: true };
const uv: Installer = { tool: "uv", args: [], noCache: false };

function plan(overrides: Partial<ImagePlan> & { layers: Layer[] }): ImagePlan {
  return {
    key: "training",
    tag: "zenml:training-pipeline",
    checksum: "sha256:0",
    parent: { kind: "image", ref: "python:3.11-slim" },
    config: { labels: [] },
    context: { generated: [], dockerignore: [], writable: false },
    platform: { os: "linux", architecture: "amd64" },
    sources: { mode: "include" },
    mode: "build",
    secrets: [],
    buildOptions: { buildArgs: [], labels: [], cacheFrom: [], extraHosts: [], other: {} },
    reuse: true,
    ...overrides,
  };
}

/** Every layer kind, hostile values, an arm variant, labels, entrypoint and cmd. */
const full = plan({
  platform: { os: "linux", architecture: "arm64", variant: "v8" },
  layers: [
    { kind: "workdir", path: "/app" },
    { kind: "env", vars: hostileEnv.map(([n, v]): [string, string[]] => [n, [v]]) },
    { kind: "apt", packages: ["git", "libgomp1"] },
    { kind: "installer", tool: "uv", secrets: [] },
    { kind: "requirements", origin: "local", file: ".zenml_local_requirements", dest: "/app/.zenml_local_requirements", installer: uv, secrets: [], lines: [] },
    { kind: "requirements", origin: "user", file: ".zenml_user_requirements", dest: "/app/.zenml_user_requirements", installer: pip, secrets: [], lines: [] },
    { kind: "env", vars: [["PATH", ["/opt/venv/bin:/usr/local/bin:/usr/bin:/bin"]], ["QUOTES", ["replaced 'again'"]]] },
    { kind: "sources", chown: "1000:1000" },
    { kind: "run", purpose: "local_project_install_command", shell: `pip install -e . && echo "$(whoami)" > '/tmp/who am i'` },
    { kind: "user", name: "1000" },
  ],
  config: { entrypoint: ["python", "-m", "zenml.entrypoints.entrypoint"], cmd: ["--help"], labels: [["org.opencontainers.image.title", "training"], ["quote", '"x"']] },
  context: {
    generated: [
      { path: ".zenml_local_requirements", contents: "numpy==2.0\n" },
      { path: ".zenml_user_requirements", contents: "pandas\n" },
    ],
    dockerignore: ["*.pyc", "build", "data/**", "a&b", "!.zen"],
    sources: { entries: [], digest: "sha256:1", totalSize: 0 },
    writable: false,
  },
});

const cases: Record<string, { image: ImagePlan }> = {
  full: { image: full },
  "user before workdir, named chown, registry parent with digest": {
    image: plan({
      parent: { kind: "image", ref: `ghcr.io/org/base:1@sha256:${"e".repeat(64)}` },
      layers: [
        { kind: "user", name: "zenml" },
        { kind: "workdir", path: "srv/app/" },
        { kind: "sources", chown: "zenml:staff" },
        { kind: "workdir", path: "/" },
        { kind: "run", purpose: "p", shell: "id" },
      ],
    }),
  },
  scratch: {
    image: plan({ parent: { kind: "image", ref: "scratch" }, layers: [{ kind: "sources" }, { kind: "run", purpose: "p", shell: "true" }] }),
  },
  secrets: {
    image: plan({
      layers: [
        { kind: "workdir", path: "/app" },
        { kind: "installer", tool: "uv", secrets: [{ id: "netrc", target: "/root/.netrc" }] },
        {
          kind: "requirements",
          origin: "user",
          file: ".zenml_user_requirements",
          dest: "/app/.zenml_user_requirements",
          installer: uv,
          secrets: [
            { id: "netrc", target: "/root/.netrc" },
            { id: "index.token", target: "/run/secrets/index.token", env: "UV_INDEX_PASSWORD" },
          ],
          lines: [],
        },
      ],
      context: { generated: [{ path: ".zenml_user_requirements", contents: "private-pkg\n" }], dockerignore: [], writable: false },
      secrets: [{ id: "netrc", source: { file: "~/.netrc" } }, { id: "index.token", source: { env: "INDEX_TOKEN" } }],
    }),
  },
  "plan parent": {
    image: plan({
      key: "trainer",
      tag: "zenml:trainer",
      parent: { kind: "plan", key: "training-parent", tag: "registry.local:5000/zenml:training-intermediate-build" },
      layers: [{ kind: "apt", packages: ["curl"] }],
    }),
  },
};

const emitted = Object.fromEntries(Object.entries(cases).map(([name, c]) => [name, emitLlb(c.image)]));

function file(artifacts: Artifacts, path: string): string | Uint8Array {
  const found = artifacts.files.find((f) => f.path === path);
  if (!found) throw new Error(`no ${path} in ${artifacts.files.map((f) => f.path).join(", ")}`);
  return found.contents;
}
const bytesOf = (a: Artifacts) => file(a, "llb.pb") as Uint8Array;
const dumpOf = (a: Artifacts) => JSON.parse(file(a, "llb.json") as string) as DumpLlbJson;

// ---------------------------------------------------------------------------------------------
// An independent reader of the Definition's top level (fields 1 and 2), for digests.

function topLevel(bytes: Uint8Array): { def: Uint8Array[]; metadataKeys: string[] } {
  let pos = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  const def: Uint8Array[] = [];
  const metadataKeys: string[] = [];
  while (pos < bytes.length) {
    const tag = varint();
    const length = varint();
    const payload = bytes.subarray(pos, pos + length);
    pos += length;
    if (tag === 0x0a) def.push(payload);
    // A metadata entry starts with its key: 0a <len> "sha256:...".
    if (tag === 0x12) metadataKeys.push(new TextDecoder().decode(payload.subarray(2, 2 + payload[1]!)));
  }
  return { def, metadataKeys };
}

const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

describe.each(Object.keys(cases))("%s", (name) => {
  const artifacts = emitted[name]!;

  test("writes llb.pb, llb.json, image-config.json and the generated files, without diagnostics", () => {
    expect(artifacts.diagnostics).toEqual([]);
    expect(artifacts.files.map((f) => f.path).slice(0, 3)).toEqual(["llb.pb", "llb.json", "image-config.json"]);
    expect(artifacts.files.slice(3, 3 + cases[name]!.image.context.generated.length)).toEqual(cases[name]!.image.context.generated);
  });

  test("every op's digest, recomputed from the bytes in llb.pb, is the one llb.json and the metadata name", () => {
    const { def, metadataKeys } = topLevel(bytesOf(artifacts));
    const digests = def.map(sha256);
    expect(dumpOf(artifacts).map((op) => op.Digest)).toEqual(digests);
    expect(metadataKeys).toEqual([...digests].sort());
    expect(new Set(digests).size).toBe(digests.length);
  });

  test("inputs all resolve to earlier ops; exactly one terminal op, last", () => {
    const ops = dumpOf(artifacts);
    const seen = new Set<string>();
    for (const op of ops) {
      for (const input of (op.Op.inputs ?? []) as { digest: string }[]) expect(seen.has(input.digest)).toBe(true);
      seen.add(op.Digest);
    }
    const terminals = ops.filter((op) => op.Op.Op === null);
    expect(terminals).toHaveLength(1);
    expect(ops.at(-1)).toBe(terminals[0]);
    expect(ops.length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(terminals[0]!.Op)).toEqual(["inputs", "Op"]);
    expect(terminals[0]!.Op.inputs).toEqual([{ digest: ops.at(-2)!.Digest, index: 0 }]);
  });

  test("decoding llb.pb gives llb.json", () => {
    expect(decodeDefinition(bytesOf(artifacts))).toEqual(dumpOf(artifacts));
  });

  test("the same plan twice gives identical bytes", () => {
    const again = emitLlb(structuredClone(cases[name]!.image));
    expect(again).toEqual(artifacts);
  });

  test.skipIf(lacks("protoc"))("protoc --decode_raw reads the definition and each op, with the facts' field numbers", () => {
    const bytes = bytesOf(artifacts);
    const ops = dumpOf(artifacts);
    const metadata = [...ops].sort((a, b) => (a.Digest < b.Digest ? -1 : 1));
    const expected: Raw = [
      ...ops.map((op): RawField => [1, rawMessage("Op", op.Op)]),
      ...metadata.map((op): RawField => [2, [[1, op.Digest], [2, rawMessage("OpMetadata", op.OpMetadata)]]]),
      [3, []],
    ];
    expect(reconcile(decodeRaw(bytes), expected)).toEqual(expected);
    topLevel(bytes).def.forEach((opBytes, i) => {
      const op = rawMessage("Op", ops[i]!.Op);
      expect(reconcile(decodeRaw(opBytes), op)).toEqual(op);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// What the ops hold

const opsOf = (name: string) => dumpOf(emitted[name]!);
/** The dump JSON, read loosely. */
type Json = any;
const execs = (name: string): Json[] => opsOf(name).flatMap((op) => (op.Op.Op && "exec" in (op.Op.Op as object) ? [(op.Op.Op as Json).exec] : []));
const files = (name: string): Json[] => opsOf(name).flatMap((op) => (op.Op.Op && "file" in (op.Op.Op as object) ? [op.Op] : []));
const sources = (name: string): Json[] => opsOf(name).flatMap((op) => (op.Op.Op && "source" in (op.Op.Op as object) ? [op.Op] : []));

describe("lowering", () => {
  test("every env value reaches every later exec op unchanged, a redefined name moving to the end", () => {
    const all = execs("full");
    expect(all).toHaveLength(5);
    const expectedEnv = [
      ...hostileEnv.filter(([n]) => n !== "QUOTES").map(([n, v]) => `${n}=${v}`),
      "PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin",
      "QUOTES=replaced 'again'",
    ];
    const initialEnv = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...hostileEnv.map(([n, v]) => `${n}=${v}`)];
    expect(all.slice(0, 4).map((e) => e.meta.env)).toEqual([initialEnv, initialEnv, initialEnv, initialEnv]);
    expect(all[4].meta.env).toEqual(expectedEnv);
    const decoded = decodeDefinition(bytesOf(emitted.full!));
    expect(JSON.stringify(decoded)).toContain(JSON.stringify(`NEWLINES=${hostileEnv[2]![1]}`));
  });

  test("exec ops run /bin/sh -c with the command unchanged, in the work dir, as the current user", () => {
    const run = execs("full").at(-1);
    expect(run.meta.args).toEqual(["/bin/sh", "-c", `pip install -e . && echo "$(whoami)" > '/tmp/who am i'`]);
    expect(run.meta.cwd).toBe("/app");
    expect(run.meta.user).toBeUndefined(); // the user layer comes after
    expect(run.meta.removeMountStubsRecursive).toBe(true);
    expect(execs("user before workdir, named chown, registry parent with digest")[0].meta).toMatchObject({ user: "zenml", cwd: "/" });
  });

  test("apt and installers use BuildKit cache mounts, sorted by destination after the root mount", () => {
    const [apt, installUv, installLocal, installUser] = execs("full");
    expect(apt.mounts).toEqual([
      { input: 0, dest: "/", output: 0 },
      { input: -1, dest: "/var/cache/apt", output: -1, mountType: 3, cacheOpt: { ID: "apt-cache", sharing: 2 } },
      { input: -1, dest: "/var/lib/apt", output: -1, mountType: 3, cacheOpt: { ID: "apt-lists", sharing: 2 } },
    ]);
    expect(installUv.meta.args[2]).toBe("pip install uv");
    expect(installLocal.meta.args[2]).toBe("uv pip install -r /app/.zenml_local_requirements");
    expect(installUser.meta.args[2]).toBe("pip install --default-timeout=60 -r /app/.zenml_user_requirements");
    expect(installUser.mounts[1]).toEqual({ input: -1, dest: "/root/.cache/pip", output: -1, mountType: 3, cacheOpt: { ID: "pip-cache" } });
  });

  test("secrets are mounted after the cache mounts, in order, as the Go client's AddSecret writes them", () => {
    const [installUv, installUser] = execs("secrets");
    const secret = (id: string, dest: string) => ({ input: -1, dest, output: 0, mountType: 1, secretOpt: { ID: id, mode: 0o400 } });
    expect(installUv.mounts).toEqual([
      { input: 0, dest: "/", output: 0 },
      { input: -1, dest: "/root/.cache/pip", output: -1, mountType: 3, cacheOpt: { ID: "pip-cache" } },
      secret("netrc", "/root/.netrc"),
    ]);
    // uv without no-cache-dir: no cache mount.
    expect(installUser.mounts.slice(1)).toEqual([secret("netrc", "/root/.netrc"), secret("index.token", "/run/secrets/index.token")]);
    // The value is read from the mount by the command itself; it is in no env and no arg.
    expect(installUser.meta.args[2]).toBe(`UV_INDEX_PASSWORD="$(cat /run/secrets/index.token)" uv pip install -r /app/.zenml_user_requirements`);
    expect(installUser.meta.env).toEqual(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
    const caps = opsOf("secrets").filter((op) => (op.Op.Op as Json)?.exec).map((op) => op.OpMetadata.caps);
    for (const c of caps) expect(c).toMatchObject({ "exec.mount.secret": true });
    expect(opsOf("full").some((op) => "exec.mount.secret" in ((op.OpMetadata.caps ?? {}) as object))).toBe(false);
  });

  test("no secret source (variable or file name) reaches the definition", () => {
    const text = new TextDecoder().decode(bytesOf(emitted.secrets!));
    expect(text).not.toContain("INDEX_TOKEN");
    expect(text).not.toContain("~/.netrc");
  });

  test("WORKDIR is a mkdir 0755 with parents and no timestamp, owned by the user when one is set", () => {
    const [mkdir] = files("full");
    expect(mkdir.Op.file.actions).toEqual([
      { input: 0, secondaryInput: -1, output: 0, Action: { mkdir: { path: "/app", mode: 0o755, makeParents: true, timestamp: -1 } } },
    ]);
    const [named] = files("user before workdir, named chown, registry parent with digest");
    expect(named.Op.file.actions[0].Action.mkdir).toEqual({
      path: "/srv/app",
      mode: 0o755,
      makeParents: true,
      owner: { user: { User: { byName: { name: "zenml", input: 0 } } } },
      timestamp: -1,
    });
  });

  test("requirements copy their generated file from local://generated before installing", () => {
    const copies = files("full").slice(1, 3);
    const generated = sources("full").find((s) => s.Op.source.identifier === "local://generated");
    for (const [i, name] of [".zenml_local_requirements", ".zenml_user_requirements"].entries()) {
      expect(copies[i].inputs[1].digest).toBe(opsOf("full").find((op) => (op.Op.Op as Json)?.source?.identifier === "local://generated")!.Digest);
      expect(copies[i].Op.file.actions[0]).toEqual({
        input: 0,
        secondaryInput: 1,
        output: 0,
        Action: {
          copy: {
            src: `/${name}`,
            dest: `/app/${name}`,
            mode: -1,
            followSymlink: true,
            dirCopyContents: true,
            createDestPath: true,
            allowWildcard: true,
            allowEmptyWildcard: true,
            timestamp: -1,
          },
        },
      });
    }
    expect(generated.Op.source.attrs["local.includepattern"]).toBe('[".zenml_local_requirements",".zenml_user_requirements"]');
  });

  test("sources copy local://context into the work dir, with dockerignore patterns and chown", () => {
    const context = sources("full").find((s) => s.Op.source.identifier === "local://context");
    expect(context.platform).toBeUndefined();
    expect(context.Op.source.attrs).toEqual({
      "local.excludepatterns": '["*.pyc","build","data/**","a\\u0026b","!.zen"]',
      "local.sharedkeyhint": "context",
      "local.unique": expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    const copy = files("full")[3];
    expect(copy.Op.file.actions[0].Action.copy).toMatchObject({ src: "/", dest: "/app/", owner: { user: { User: { byID: 1000 } }, group: { User: { byID: 1000 } } } });
    const named = files("user before workdir, named chown, registry parent with digest")[1];
    expect(named.Op.file.actions[0].Action.copy).toMatchObject({
      dest: "/srv/app/",
      owner: { user: { User: { byName: { name: "zenml", input: 0 } } }, group: { User: { byName: { name: "staff", input: 0 } } } },
    });
  });

  test("local.unique is derived from the image, the source and its content", () => {
    const unique = (image: ImagePlan) =>
      (dumpOf(emitLlb(image)) as Json[]).find((op) => op.Op.Op?.source?.identifier === "local://context").Op.Op.source.attrs["local.unique"];
    const base = unique(full);
    expect(unique(structuredClone(full))).toBe(base);
    expect(unique({ ...full, key: "other" })).not.toBe(base);
    expect(unique({ ...full, context: { ...full.context, sources: { entries: [], digest: "sha256:2", totalSize: 0 } } })).not.toBe(base);
  });

  test("the platform is on image sources, exec and file ops; not on local sources or the terminal op", () => {
    for (const op of opsOf("full")) {
      const kind = op.Op.Op ? Object.keys(op.Op.Op as object)[0] : "terminal";
      const local = kind === "source" && (op.Op.Op as Json).source.identifier.startsWith("local://");
      expect(op.Op.platform, `${kind} ${op.Digest}`).toEqual(kind === "terminal" || local ? undefined : { Architecture: "arm64", OS: "linux", Variant: "v8" });
      expect(op.Op.constraints).toEqual(kind === "terminal" ? undefined : {});
    }
  });

  test("the parent image is a normalized docker-image source", () => {
    expect(sources("full")[0].Op.source).toEqual({ identifier: "docker-image://docker.io/library/python:3.11-slim" });
    expect(sources("user before workdir, named chown, registry parent with digest")[0].Op.source.identifier).toBe(
      `docker-image://ghcr.io/org/base:1@sha256:${"e".repeat(64)}`,
    );
  });

  test("metadata carries a readable name and the caps the Go client declares", () => {
    const ops = opsOf("full");
    expect(ops.map((op) => (op.OpMetadata.description as Json)?.["llb.customname"])).toEqual([
      "FROM docker.io/library/python:3.11-slim",
      "WORKDIR /app",
      expect.stringMatching(/^RUN apt-get update && /),
      "RUN pip install uv",
      "[internal] load generated files",
      "COPY .zenml_local_requirements /app/.zenml_local_requirements",
      "RUN uv pip install -r /app/.zenml_local_requirements",
      "COPY .zenml_user_requirements /app/.zenml_user_requirements",
      "RUN pip install --default-timeout=60 -r /app/.zenml_user_requirements",
      "[internal] load build context",
      "COPY --chown=1000:1000 . /app/",
      expect.stringMatching(/^RUN pip install -e \./),
      undefined,
    ]);
    expect(ops.at(-1)!.OpMetadata).toEqual({ caps: { constraints: true, "meta.description": true, platform: true } });
    expect(ops[0]!.OpMetadata.caps).toEqual({ "source.image": true });
    expect(ops[2]!.OpMetadata.caps).toEqual({ "exec.meta.base": true, "exec.mount.bind": true, "exec.mount.cache": true, "exec.mount.cache.sharing": true });
  });

  test("on scratch, the first ops have no input", () => {
    const [copy] = files("scratch");
    expect(copy.inputs).toHaveLength(1);
    expect(copy.Op.file.actions[0]).toMatchObject({ input: -1, secondaryInput: 0, output: 0 });
    expect(sources("scratch").map((s) => s.Op.source.identifier)).toEqual(["local://context"]);
  });

  test("the image config holds Env (default PATH first), WorkingDir, User, Entrypoint, Cmd, Labels and the platform", () => {
    expect(JSON.parse(file(emitted.full!, "image-config.json") as string)).toEqual({
      architecture: "arm64",
      os: "linux",
      variant: "v8",
      config: {
        User: "1000",
        Env: execs("full").at(-1).meta.env,
        Entrypoint: ["python", "-m", "zenml.entrypoints.entrypoint"],
        Cmd: ["--help"],
        WorkingDir: "/app",
        Labels: { "org.opencontainers.image.title": "training", quote: '"x"' },
      },
    });
    expect(JSON.parse(file(emitted.scratch!, "image-config.json") as string)).toEqual({
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], WorkingDir: "/" },
    });
  });
});

describe("images LLB cannot build alone", () => {
  test("a plan parent starts from that image's tag, and BUILD-ORDER.txt says to build it first", () => {
    expect(sources("plan parent")[0].Op.source.identifier).toBe("docker-image://registry.local:5000/zenml:training-intermediate-build");
    const note = file(emitted["plan parent"]!, "BUILD-ORDER.txt") as string;
    expect(note).toContain('the image "training-parent" of the same plan');
    expect(note).toContain("Build and push that image\nfirst");
  });

  test("a user Dockerfile gets no llb.pb but the frontend command", () => {
    const artifacts = emitLlb(
      plan({
        parent: {
          kind: "dockerfile",
          path: "docker/Dockerfile.train",
          dockerfile: "FROM python:3.11\n",
          contextRoot: "docker ctx",
          buildOptions: { buildArgs: [["VERSION", "1 2"]], labels: [], target: "prod", pull: true, cacheFrom: [], extraHosts: [], other: {} },
          dockerignore: "docker/.ignore",
        },
        layers: [],
        platform: { os: "linux", architecture: "arm64", variant: "v8" },
      }),
    );
    expect(artifacts.files.map((f) => f.path)).toEqual(["BUILD-WITH-FRONTEND.txt"]);
    expect(artifacts.files[0]!.contents).toMatchInlineSnapshot(`
      "zenml:training-pipeline is the user Dockerfile docker/Dockerfile.train, built as is. A Dockerfile needs BuildKit's
      Dockerfile frontend (raw LLB cannot express it), so there is no llb.pb here. From the run configuration's folder:

        buildctl build \\
          --frontend dockerfile.v0 \\
          --local 'context=docker ctx' \\
          --local dockerfile=docker \\
          --opt filename=Dockerfile.train \\
          --opt platform=linux/arm64/v8 \\
          --opt 'build-arg:VERSION=1 2' \\
          --opt target=prod \\
          --opt image-resolve-mode=pull \\
          --output type=image,name=zenml:training-pipeline,push=true

      BuildKit does not read docker/.ignore: copy it to docker/Dockerfile.train.dockerignore first.
      push=true: images built on top of this one pull it from its registry.
      "
    `);
  });

  test("skipBuild emits nothing", () => {
    expect(emitLlb(plan({ layers: [], mode: "use-parent" }))).toEqual({ files: [], diagnostics: [] });
  });

  test("a command or variable longer than Linux passes to a process (128 KiB) is a diagnostic", () => {
    const env = (value: string) => plan({ layers: [{ kind: "env", vars: [["BIG", [value]]] }, { kind: "run", purpose: "p", shell: "id" }] });
    expect(emitLlb(env("x".repeat(131_071 - "BIG=".length))).diagnostics).toEqual([]);
    const artifacts = emitLlb(env("😀".repeat(40_000)));
    expect(artifacts.files).toEqual([]);
    expect(artifacts.diagnostics[0]).toMatchObject({ code: "UNSUPPORTED_BY_BACKEND", message: expect.stringContaining("(160004 bytes)") });
    expect(emitLlb(plan({ layers: [{ kind: "run", purpose: "p", shell: "x".repeat(131_072) }] })).diagnostics[0]?.code).toBe("UNSUPPORTED_BY_BACKEND");
  });

  test("scratch with nothing to build is a diagnostic, not an empty definition", () => {
    const artifacts = emitLlb(plan({ parent: { kind: "image", ref: "scratch" }, layers: [{ kind: "env", vars: [["A", ["1"]]] }] }));
    expect(artifacts.files).toEqual([]);
    expect(artifacts.diagnostics[0]).toMatchObject({ severity: "error", code: "INVALID_CONFIG" });
  });
});

// ---------------------------------------------------------------------------------------------
// protoc --decode_raw, against the field numbers of the facts (written out here, independently
// of schema.ts): [number, kind], kind = a message name, "string", "varint", or "map".

type RawField = [number, string | Raw];
type Raw = RawField[];

const facts: Record<string, Record<string, [number, string]>> = {
  Op: { inputs: [1, "Input"], exec: [2, "ExecOp"], source: [3, "SourceOp"], file: [4, "FileOp"], platform: [10, "Platform"], constraints: [11, "WorkerConstraints"] },
  Input: { digest: [1, "string"], index: [2, "varint"] },
  Platform: { Architecture: [1, "string"], OS: [2, "string"], Variant: [3, "string"] },
  WorkerConstraints: { filter: [1, "string"] },
  ExecOp: { meta: [1, "Meta"], mounts: [2, "Mount"], network: [3, "varint"], security: [4, "varint"] },
  Meta: { args: [1, "string"], env: [2, "string"], cwd: [3, "string"], user: [4, "string"], removeMountStubsRecursive: [11, "varint"] },
  Mount: {
    input: [1, "varint"], selector: [2, "string"], dest: [3, "string"], output: [4, "varint"], readonly: [5, "varint"], mountType: [6, "varint"],
    cacheOpt: [20, "CacheOpt"], secretOpt: [21, "SecretOpt"],
  },
  CacheOpt: { ID: [1, "string"], sharing: [2, "varint"] },
  SecretOpt: { ID: [1, "string"], uid: [2, "varint"], gid: [3, "varint"], mode: [4, "varint"], optional: [5, "varint"] },
  SourceOp: { identifier: [1, "string"], attrs: [2, "map"] },
  FileOp: { actions: [2, "FileAction"] },
  FileAction: { input: [1, "varint"], secondaryInput: [2, "varint"], output: [3, "varint"], copy: [4, "FileActionCopy"], mkdir: [6, "FileActionMkDir"] },
  FileActionCopy: {
    src: [1, "string"], dest: [2, "string"], owner: [3, "ChownOpt"], mode: [4, "varint"], followSymlink: [5, "varint"], dirCopyContents: [6, "varint"],
    createDestPath: [8, "varint"], allowWildcard: [9, "varint"], allowEmptyWildcard: [10, "varint"], timestamp: [11, "varint"],
  },
  FileActionMkDir: { path: [1, "string"], mode: [2, "varint"], makeParents: [3, "varint"], owner: [4, "ChownOpt"], timestamp: [5, "varint"] },
  ChownOpt: { user: [1, "UserOpt"], group: [2, "UserOpt"] },
  UserOpt: { byName: [1, "NamedUserOpt"], byID: [2, "varint"] },
  NamedUserOpt: { name: [1, "string"], input: [2, "varint"] },
  OpMetadata: { description: [2, "map"], caps: [5, "map"] },
};

/** The raw fields protoc should print for a message of the dump-llb JSON (proto3 defaults omitted). */
function rawMessage(type: string, json: Record<string, unknown>): Raw {
  // Oneof wrappers ("Op", "Action", "User") hold the member itself; a set oneof member is written even when zero.
  const members = Object.entries(json).flatMap(([key, value]): [string, unknown, boolean][] =>
    /^[A-Z]/.test(key) && !(key in facts[type]!) ? Object.entries((value ?? {}) as object).map(([k, v]) => [k, v, true]) : [[key, value, false]],
  );
  if (type === "UserOpt" && members.length === 0) members.push(["byID", 0, true]);
  const out: Raw = [];
  for (const [key, value, always] of members.sort(([a], [b]) => facts[type]![a]![0] - facts[type]![b]![0])) {
    const [no, kind] = facts[type]![key] ?? [NaN, ""];
    if (Number.isNaN(no)) throw new Error(`${type}.${key} is not in the facts`);
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === null || item === undefined) continue;
      if (kind === "map") {
        for (const [k, v] of Object.entries(item as object)) out.push([no, [[1, k], [2, v === true ? "1" : String(v)]]]);
      } else if (kind === "string") {
        if (item !== "" || Array.isArray(value)) out.push([no, item as string]);
      } else if (kind === "varint") {
        const n = BigInt(item === true ? 1 : item === false ? 0 : (item as number));
        if (n !== 0n || always) out.push([no, BigInt.asUintN(64, n).toString()]);
      } else {
        out.push([no, rawMessage(kind, item as Record<string, unknown>)]);
      }
    }
  }
  return out;
}

/** Runs protoc --decode_raw and parses its text: `N: value` and `N { ... }` lines. */
function decodeRaw(bytes: Uint8Array): Raw {
  const result = spawnSync(toolPath("protoc")!, ["--decode_raw"], { input: bytes });
  expect(result.status, result.stderr.toString()).toBe(0);
  const lines = result.stdout.toString().split("\n").filter((l) => l.trim() !== "");
  let i = 0;
  const block = (): Raw => {
    const out: Raw = [];
    while (i < lines.length) {
      const line = lines[i++]!.trim();
      if (line === "}") return out;
      const nested = /^(\d+) \{$/.exec(line);
      if (nested) {
        out.push([Number(nested[1]), block()]);
        continue;
      }
      const [, no, value] = /^(\d+): (.*)$/.exec(line)!;
      // protoc prints an empty nested message as "", the same as an empty string.
      out.push([Number(no), value === '""' ? [] : value!.startsWith('"') ? unescapeC(value!.slice(1, -1)) : value!]);
    }
    return out;
  };
  return normalizeEmpty(block());
}

/**
 * protoc guesses: a string whose bytes happen to parse as a message (`apt-cache`: 'a' reads as
 * field 12, fixed64) prints as one. Where the facts say string, take the string; numbers still count.
 */
function reconcile(actual: Raw, expected: Raw): Raw {
  return actual.map(([no, value], i) => {
    const want = expected[i]?.[1];
    if (typeof want === "string" && typeof value !== "string") return [no, want];
    return [no, typeof value === "string" || typeof want === "string" || want === undefined ? value : reconcile(value, want)];
  });
}

/** An empty string field and an empty message print alike; compare both as []. */
function normalizeEmpty(raw: Raw): Raw {
  return raw.map(([no, value]) => [no, typeof value === "string" ? value : normalizeEmpty(value)]);
}

function unescapeC(text: string): string {
  const bytes: number[] = [];
  const simple: Record<string, number> = { n: 10, r: 13, t: 9, '"': 34, "'": 39, "\\": 92 };
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "\\") {
      bytes.push(...Buffer.from(text[i]!, "latin1"));
      continue;
    }
    const next = text[++i]!;
    if (next in simple) bytes.push(simple[next]!);
    else {
      bytes.push(parseInt(text.slice(i, i + 3), 8));
      i += 2;
    }
  }
  return Buffer.from(bytes).toString("utf8");
}
