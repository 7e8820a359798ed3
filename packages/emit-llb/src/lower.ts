/**
 * Lowering of an image plan to an LLB graph, one handler per layer kind, each doing what BuildKit's
 * Dockerfile frontend does for the matching instruction (see the facts' lowering table).
 */
import { codes, commandsFor, evaluateEnv, parentReference, sha256, warning, type Diagnostic, type EnvValue, type ImagePlan, type Layer, type LayerKind, type ParentImage } from "@dockwright/core";
import { compareCodePoints } from "@dockwright/core/strings";
import { Graph } from "./graph.js";
import { goJsonStrings, literalPattern, normalizeImageRef, normalizePath } from "./normalize.js";
import { cacheSharing, mountType, type ChownOpt, type FileAction, type Input, type Mount, type Op, type OpMetadata, type Platform, type ProxyEnv, type UserOpt } from "./schema.js";

/** BuildKit's default PATH, which its Dockerfile frontend uses when the parent's config is unknown. */
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** What later ops inherit, as a Dockerfile stage carries it from instruction to instruction. */
export type State = {
  /** The filesystem so far; undefined = scratch. */
  root: Input | undefined;
  env: [name: string, value: string][];
  cwd: string;
  user: string;
};

type Lowered = { graph: Graph; state: State; diagnostics: Diagnostic[] };

type Context = {
  image: ImagePlan;
  graph: Graph;
  platform: Platform;
  locals: Map<string, Input>;
  proxy: ProxyEnv;
  /** The parent's configuration is known (resolved): a variable it does not set is unset, not unknown. */
  knowsParent: boolean;
  diagnostics: Diagnostic[];
};

/** The parent of an LLB build: a registry image, or another image of the plan. */
export type LlbParent = Exclude<ParentImage, { kind: "dockerfile" }>;

/** Local sources, as `buildctl build --local NAME=DIR` must provide them. */
const localNames = { context: "context", generated: "generated" } as const;

/**
 * Lowers the layers of an image that starts from `parent` (a registry reference, or "scratch").
 * A resolved parent's configuration is where the steps start, as in the Dockerfile frontend:
 * its Env (PATH added when it has none), User and WorkingDir.
 */
export function lowerImage(image: ImagePlan, parent: LlbParent): Lowered {
  const { os, architecture, variant } = image.platform;
  const inherited = parent.resolved?.config;
  const ctx: Context = {
    image,
    graph: new Graph(),
    platform: { OS: os, Architecture: architecture, ...(variant ? { Variant: variant } : {}) },
    locals: new Map(),
    proxy: proxyEnv(image.buildOptions.buildArgs),
    knowsParent: inherited !== undefined,
    diagnostics: [],
  };
  const ref = parentReference(parent);
  const env = inherited?.env ?? [];
  let state: State = {
    root: ref === "scratch" ? undefined : imageSource(ctx, ref),
    // Without the parent's config, BuildKit's default PATH, as its frontend does for a parent without one.
    env: os === "windows" || env.some(([name]) => name === "PATH") ? env : [...env, ["PATH", defaultPath]],
    cwd: inherited?.workingDir || "/",
    user: inherited?.user ?? "",
  };
  for (const layer of image.layers) state = lowerLayer(ctx, state, layer);
  return { graph: ctx.graph, state, diagnostics: ctx.diagnostics };
}

/** Build arguments Docker predefines, as the Dockerfile frontend hands them to RUN steps. */
function proxyEnv(args: [string, string][]): ProxyEnv {
  const proxy: ProxyEnv = {};
  for (const [name, value] of args) {
    const field = `${name.toLowerCase()}` as keyof ProxyEnv;
    if (["http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "all_proxy"].includes(field)) proxy[field] = value;
  }
  return proxy;
}

/** ENV values as Docker evaluates them: variables from the environment so far. */
function evaluate(ctx: Context, env: State["env"], vars: [string, EnvValue][]): [string, string][] {
  const current = new Map(env);
  return vars.map(([name, value]) => {
    const text = evaluateEnv(value, (variable) => {
      if (!current.has(variable) && !ctx.knowsParent) {
        ctx.diagnostics.push(warning(codes.UNSUPPORTED_BY_BACKEND, `environment.${name}`,
          `${name} reads $${variable}, which only the parent image can set; the parent is not resolved, so raw LLB does not see its configuration and takes it as empty. Resolve the parent (\`dockwright build\`, or \`compile --resolve\`), or give the value without it.`));
      }
      return current.get(variable);
    });
    current.set(name, text);
    return [name, text];
  });
}

/**
 * One handler per layer kind, joined by a map keyed by kind (as mdast-util-to-markdown joins its
 * handlers): a kind without a handler is a type error. Not ts-pattern's `match`, which costs about
 * 2 µs a layer, more than the rest of lowering a layer.
 */
const handlers: { [K in LayerKind]: (ctx: Context, state: State, layer: Extract<Layer, { kind: K }>) => State } = {
  workdir: (ctx, state, { path }) => workdir(ctx, state, path),
  env: (ctx, state, { vars }) => ({ ...state, env: setEnv(state.env, evaluate(ctx, state.env, vars)) }),
  user: (_ctx, state, { name }) => ({ ...state, user: name }),
  apt: run,
  installer: run,
  permissions: run,
  run,
  requirements: (ctx, state, layer) => {
    const from = local(ctx, localNames.generated);
    return run(ctx, copy(ctx, state, from, `/${layer.file}`, layer.dest, undefined, `COPY ${layer.file} ${layer.dest}`), layer);
  },
  sources: (ctx, state, { chown }) => {
    const dest = normalizePath(state.cwd, "./", true);
    const name = `COPY ${chown ? `--chown=${chown} ` : ""}. ${dest}`;
    return copy(ctx, state, local(ctx, localNames.context), "/", dest, chown, name);
  },
};

function lowerLayer(ctx: Context, state: State, layer: Layer): State {
  return (handlers[layer.kind] as (ctx: Context, state: State, layer: Layer) => State)(ctx, state, layer);
}

/**
 * ENV: a later value of a name replaces the earlier one and moves to the end, as in BuildKit.
 * In one pass, not one per variable: that would be quadratic in the number of variables.
 */
function setEnv(env: State["env"], vars: [string, string][]): State["env"] {
  const last = new Map(vars.map(([name], i) => [name, i]));
  return [...env.filter(([name]) => !last.has(name)), ...vars.filter(([name], i) => last.get(name) === i)];
}

function metadata(name: string, ...caps: string[]): OpMetadata {
  return { description: { "llb.customname": name }, caps: Object.fromEntries(caps.map((c) => [c, true])) };
}

function imageSource(ctx: Context, ref: string): Input {
  const name = normalizeImageRef(ref);
  const op: Op = { source: { identifier: `docker-image://${name}` }, platform: ctx.platform, constraints: {} };
  return ctx.graph.add(op, metadata(`FROM ${name}`, "source.image"));
}

/**
 * A local source, added where first used. `local.unique` is random in the Go client; here it is
 * derived from the image, the source name and what the source will hold, so two builds that share
 * an op digest (and so, on a shared daemon, the running op) also share the files.
 */
function local(ctx: Context, name: string): Input {
  const known = ctx.locals.get(name);
  if (known) return known;
  const { image } = ctx;
  const attrs: Record<string, string> = { "local.sharedkeyhint": name };
  const caps = ["source.local", "source.local.unique", "source.local.sharedkeyhint"];
  let content: unknown;
  if (name === localNames.context) {
    const excludes = image.context.dockerignore;
    if (excludes.length > 0) {
      attrs["local.excludepatterns"] = goJsonStrings(excludes);
      caps.push("source.local.excludepatterns");
    }
    content = [excludes, image.context.sources?.digest ?? null];
  } else {
    // Only the files the build copies, so the folder they sit in may hold other files.
    const files = [...new Set(image.layers.flatMap((l) => (l.kind === "requirements" ? [l.file] : [])))].sort();
    attrs["local.includepattern"] = goJsonStrings(files.map(literalPattern));
    caps.push("source.local.includepatterns");
    content = files.map((path) => [path, image.context.generated.find((g) => g.path === path)?.contents ?? null]);
  }
  attrs["local.unique"] = sha256(JSON.stringify([image.key, name, content])).slice(7, 39);
  const label = name === localNames.context ? "build context" : "generated files";
  const input = ctx.graph.add({ source: { identifier: `local://${name}`, attrs }, constraints: {} }, metadata(`[internal] load ${label}`, ...caps));
  ctx.locals.set(name, input);
  return input;
}

function workdir(ctx: Context, state: State, path: string): State {
  const cwd = normalizePath(state.cwd, path);
  if (cwd === "/") return { ...state, cwd };
  const action: FileAction = {
    input: state.root ? 0 : -1,
    secondaryInput: -1,
    output: 0,
    mkdir: { path: cwd, mode: 0o755, makeParents: true, ...owner(state.user, state.root), timestamp: -1 },
  };
  return { ...state, cwd, root: fileOp(ctx, state.root ? [state.root] : [], action, `WORKDIR ${cwd}`) };
}

/** COPY from a local source, with the flags the Dockerfile frontend sets on COPY. */
function copy(ctx: Context, state: State, from: Input, src: string, dest: string, chown: string | undefined, name: string): State {
  const inputs = state.root ? [state.root, from] : [from];
  const action: FileAction = {
    input: state.root ? 0 : -1,
    secondaryInput: inputs.length - 1,
    output: 0,
    copy: {
      src: normalizePath("/", src),
      dest: normalizePath(state.cwd, dest, true),
      ...owner(chown, state.root),
      mode: -1,
      followSymlink: true,
      dirCopyContents: true,
      createDestPath: true,
      allowWildcard: true,
      allowEmptyWildcard: true,
      timestamp: -1,
    },
  };
  return { ...state, root: fileOp(ctx, inputs, action, name) };
}

function fileOp(ctx: Context, inputs: Input[], action: FileAction, name: string): Input {
  const op: Op = { inputs, file: { actions: [action] }, platform: ctx.platform, constraints: {} };
  return ctx.graph.add(op, metadata(name, "file.base"));
}

/** `--chown=user[:group]` as the Go client parses it: numbers (and `root`) by ID, names looked up in `root`. */
function owner(spec: string | undefined, root: Input | undefined): { owner?: ChownOpt } {
  if (!spec) return {};
  const one = (part: string): UserOpt => {
    if (part === "root" || part === "") return { byID: 0 };
    const id = /^[+-]?\d+$/.test(part) ? Number(part) : NaN;
    if (id >= -(2 ** 31) && id < 2 ** 31) return { byID: id >>> 0 };
    return { byName: { name: part, input: root ? 0 : -1 } };
  };
  const [user, group] = spec.split(/:(.*)/s);
  return { owner: { user: one(user!), ...(group !== undefined ? { group: one(group) } : {}) } };
}

/** RUN: an exec op over the current root, with the layer's cache and secret mounts. */
function run(ctx: Context, state: State, layer: Extract<Layer, { kind: "apt" | "installer" | "requirements" | "permissions" | "run" }>): State {
  const spec = commandsFor(layer, { cacheMounts: true });
  const caches: Mount[] = spec.cacheMounts.map((m) => ({
    input: -1,
    dest: m.target,
    output: -1,
    mountType: mountType.cache,
    cacheOpt: { ID: m.id, sharing: cacheSharing[m.sharing] },
  }));
  // As BuildKit v0.11.6's Go client (the daemon in CI) writes AddSecret: input and output unset
  // (0; the daemon never reads a secret mount's input), a file of mode 0400 owned by root, required
  // (not `optional`), so every op digest equals that client's. v0.16 and later write input -1
  // instead: other digests, same build. On scratch input 0 names nothing, so there it is -1.
  const secrets: Mount[] = spec.secrets.map((s) => ({
    ...(state.root ? {} : { input: -1 }),
    dest: s.target,
    mountType: mountType.secret,
    secretOpt: { ID: s.id, uid: 0, gid: 0, mode: 0o400 },
  }));
  // Mounts sorted by destination, as the Go client sorts them ("/" first), then secrets in order.
  const mounts = [{ input: state.root ? 0 : -1, dest: "/", output: 0 }, ...caches.sort((a, b) => compareCodePoints(a.dest!, b.dest!)), ...secrets];
  const op: Op = {
    inputs: state.root ? [state.root] : [],
    exec: {
      meta: {
        args: ["/bin/sh", "-c", spec.shell],
        env: state.env.map(([name, value]) => `${name}=${value}`),
        cwd: state.cwd,
        user: state.user,
        ...(Object.keys(ctx.proxy).length > 0 ? { proxy_env: ctx.proxy } : {}),
        removeMountStubsRecursive: true,
      },
      mounts,
    },
    platform: ctx.platform,
    constraints: {},
  };
  const caps = [
    "exec.meta.base",
    ...(state.root ? ["exec.mount.bind"] : []),
    ...(caches.length > 0 ? ["exec.mount.cache", "exec.mount.cache.sharing"] : []),
    ...(secrets.length > 0 ? ["exec.mount.secret"] : []),
  ];
  return { ...state, root: ctx.graph.add(op, metadata(`RUN ${spec.shell}`, ...caps)) };
}
