/**
 * The client: a gRPC channel to buildkitd's Control API, and `solve`, which opens a session,
 * follows the Status stream and runs Solve together, and closes everything when the build ends,
 * fails, or is cancelled through an AbortSignal.
 */
import { createHash, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import grpc from "@grpc/grpc-js";
import { fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { chooseAddress, parseAddress } from "./address.js";
import { bridge, commandDial, engineDial, type Bridge } from "./bridge.js";
import { BuildkitError, callError } from "./errors.js";
import { statusEvents, type BuildEvent } from "./progress.js";
import { Control, DefinitionSchema, SolveRequestSchema, type Definition } from "./proto.js";
import { serverStream, unary } from "./rpc.js";
import { maxMessage, openSession, type Credentials, type PacketTrace } from "./session.js";

/** TLS as buildctl's --tlscacert/--tlscert/--tlskey/--tlsservername: PEM file paths or contents. */
export type TlsOptions = { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; serverName?: string };

export type ConnectOptions = {
  tls?: TlsOptions;
  /** Where $BUILDKIT_HOST and secrets from variables are read (default: process.env). */
  env?: Record<string, string | undefined>;
  /** The docker command of `docker-container://` addresses (default: docker). */
  docker?: string;
  /** Registry credentials the daemon asks for (pulls, pushes, cache); none: anonymous. */
  credentials?: Credentials;
};

/** An exporter of the build's result. Tarballs (`oci`, `docker`, and `tar`: the file system alone) are received through the session. */
export type Export =
  /** An image in the daemon's store (`moby`: Docker's engine's image store), pushed when `push`. */
  | { type: "image" | "moby"; name: string; push?: boolean; attrs?: Record<string, string> }
  | { type: "oci" | "docker" | "tar"; dest: string; name?: string; attrs?: Record<string, string> };

/** A cache import or export: `registry` (attrs `ref`, `mode`), `inline`, or another daemon-side type (not `local`, yet). */
export type CacheEntry = { type: string; attrs?: Record<string, string> };

/** Where a secret's value comes from: a variable of `env`, a file, or the value itself. */
export type SecretSource = { env: string } | { file: string } | { value: string | Uint8Array };

export type BuildRequest = {
  /** A marshalled pb.Definition (llb.pb); or none, with a frontend. */
  definition?: Uint8Array;
  /** A frontend (`dockerfile.v0`) and its attributes (`filename`, `build-arg:NAME`, `target`, ...). */
  frontend?: string;
  frontendAttrs?: Record<string, string>;
  /** Local directories by source name (`local://NAME`; the Dockerfile frontend reads `context` and `dockerfile`). */
  locals?: Record<string, string>;
  exports?: Export[];
  /** The image config (image-config.json's text), given to every exporter as `containerimage.config`. */
  imageConfig?: string;
  cacheImports?: CacheEntry[];
  cacheExports?: CacheEntry[];
  secrets?: Record<string, SecretSource>;
  /** `network.host`, `security.insecure`: the daemon must allow them too. */
  entitlements?: string[];
  /** Seconds since the epoch, for reproducible timestamps (`build-arg:SOURCE_DATE_EPOCH`). */
  sourceDateEpoch?: number;
  /** Names the daemon's copy of the local directories for incremental re-sync; default: per machine. */
  sharedKey?: string;
};

export type SolveOptions = {
  /** Cancels the build and closes its session. */
  signal?: AbortSignal;
  /** Progress as typed events; `progressPrinter` turns them into lines. */
  onEvent?: (event: BuildEvent) => void;
  /** Every FileSync packet, both ways: for debugging, and for recording exchanges in tests. */
  tracePackets?: PacketTrace;
};

export type SolveResult = {
  /** The exporters' answer: `containerimage.digest`, `containerimage.config.digest`, `image.name`, ... */
  exporterResponse: Record<string, string>;
  /** Tarballs written. */
  files: string[];
};

export type DaemonInfo = { package: string; version: string; revision: string };

export type BuildkitClient = {
  readonly address: string;
  info(): Promise<DaemonInfo>;
  solve(request: BuildRequest, options?: SolveOptions): Promise<SolveResult>;
  close(): void;
};

/**
 * Connects to buildkitd at `address` (default: $BUILDKIT_HOST, else the root socket) and checks
 * that it answers; rejects with a readable BuildkitError when it does not.
 */
export async function connect(address?: string, options: ConnectOptions = {}): Promise<BuildkitClient> {
  const env = options.env ?? process.env;
  const chosen = chooseAddress(address, env);
  const parsed = parseAddress(chosen);
  const channelOptions: grpc.ChannelOptions = { "grpc.max_receive_message_length": maxMessage, "grpc.max_send_message_length": maxMessage };
  let credentials = grpc.credentials.createInsecure();
  if (options.tls) {
    if (parsed.kind !== "tcp") throw new BuildkitError(`TLS needs a tcp:// address; ${chosen} is not one.`);
    const { ca, cert, key } = await readTls(options.tls);
    credentials = grpc.credentials.createSsl(ca, key, cert);
    if (options.tls.serverName) {
      channelOptions["grpc.ssl_target_name_override"] = options.tls.serverName;
      channelOptions["grpc.default_authority"] = options.tls.serverName;
    }
  }
  let bridged: Bridge | undefined;
  let target: string;
  if (parsed.kind === "unix") target = `unix://${parsed.path}`;
  else if (parsed.kind === "tcp") target = parsed.host.includes(":") ? `[${parsed.host}]:${parsed.port}` : `${parsed.host}:${parsed.port}`;
  else {
    bridged = await bridge(parsed.kind === "docker-engine"
      ? engineDial(parsed.socket)
      : commandDial(options.docker ?? "docker", ["exec", "-i", parsed.container, "buildctl", "dial-stdio"]));
    target = `unix://${bridged.socket}`;
  }
  const client = new grpc.Client(target, credentials, channelOptions);
  const close = () => {
    client.close();
    bridged?.close();
  };
  const info = async (): Promise<DaemonInfo> => {
    try {
      const { response } = unary(client, Control.method.info, {}, { deadline: Date.now() + 20_000 });
      const version = (await response).buildkitVersion;
      return { package: version?.package ?? "", version: version?.version ?? "", revision: version?.revision ?? "" };
    } catch (e) {
      throw callError("asking buildkitd for its version", chosen, e);
    }
  };
  let version = "";
  try {
    version = (await info()).version;
  } catch (e) {
    // Daemons before BuildKit v0.10 (Docker 20.10's engine) have no Info, but they do answer.
    if ((e as BuildkitError).code !== grpc.status.UNIMPLEMENTED) {
      close();
      throw e;
    }
  }
  const sharedKey = createHash("sha256").update(`dockwright\0${hostname()}`).digest("hex").slice(0, 32);
  return {
    address: chosen,
    info,
    solve: (request, solveOptions = {}) => {
      const exports = request.exports ?? [];
      // Before v0.13 a daemon reads one exporter only (SolveRequest fields 3 and 4).
      const minor = /^v0\.(\d+)\./.exec(version)?.[1];
      if (exports.length > 1 && (minor === undefined || Number(minor) < 13)) {
        return Promise.reject(new BuildkitError(`buildkitd ${version || "(before v0.10)"} takes one exporter per build, and this build has ${exports.length}; build once per output, or use BuildKit v0.13 or later.`));
      }
      return solve(client, chosen, { sharedKey, ...request }, { env, credentials: options.credentials, ...solveOptions });
    },
    close,
  };
}

async function readTls(tls: TlsOptions): Promise<{ ca: Buffer | null; cert: Buffer | null; key: Buffer | null }> {
  const read = async (value: string | Buffer | undefined, flag: string) => {
    if (value === undefined) return null;
    if (Buffer.isBuffer(value)) return value;
    try {
      return await readFile(value);
    } catch (e) {
      throw new BuildkitError(`${flag} ${value} cannot be read (${(e as NodeJS.ErrnoException).code ?? e}). Name a PEM file.`);
    }
  };
  const [ca, cert, key] = await Promise.all([read(tls.ca, "the TLS CA certificate"), read(tls.cert, "the TLS client certificate"), read(tls.key, "the TLS client key")]);
  if ((cert === null) !== (key === null)) throw new BuildkitError("a TLS client certificate needs its key, and a key its certificate: give both (--tlscert and --tlskey).");
  return { ca, cert, key };
}

type Context = SolveOptions & { env: Record<string, string | undefined>; credentials: Credentials | undefined };

async function solve(client: grpc.Client, address: string, request: BuildRequest & { sharedKey: string }, context: Context): Promise<SolveResult> {
  const { signal, onEvent } = context;
  if (signal?.aborted) throw new BuildkitError("the build was cancelled before it started");
  if (!request.definition && !request.frontend) throw new BuildkitError("a build needs a definition (llb.pb) or a frontend (dockerfile.v0).");
  const local = [...(request.cacheImports ?? []), ...(request.cacheExports ?? [])].find((c) => c.type === "local");
  if (local) {
    throw new BuildkitError("a local cache (type=local) is served by the client as a content store over the session, which this client does not do yet; use a registry or inline cache.");
  }
  const graph = request.definition ? definition(request.definition) : undefined;
  const secrets = await readSecrets(request.secrets ?? {}, context.env);
  const exports = request.exports ?? [];
  const tarballs = exports.flatMap((e) => ("dest" in e ? [path.resolve(e.dest)] : []));
  const ref = randomUUID().replaceAll("-", "");

  let failed: Error | undefined;
  const session = openSession(client, request.sharedKey, {
    locals: Object.fromEntries(Object.entries(request.locals ?? {}).map(([name, dir]) => [name, path.resolve(dir)])),
    tarballs,
    secrets,
    ...(context.credentials ? { credentials: context.credentials } : {}),
    onSync: (name, stats) => onEvent?.({ type: "sync", name, ...stats }),
    ...(context.tracePackets ? { tracePackets: context.tracePackets } : {}),
  }, (e) => (failed ??= e));

  const status = serverStream(client, Control.method.status, { Ref: ref });
  const toEvents = statusEvents();
  const statusDone = new Promise<void>((resolve) => {
    status.on("data", (response) => {
      for (const event of toEvents(response)) onEvent?.(event);
    });
    status.on("end", resolve);
    status.on("error", () => resolve());
  });

  const solveCall = unary(client, Control.method.solve, solveRequest(request, graph, ref, session.id));
  const abort = () => {
    solveCall.call.cancel();
    status.cancel();
  };
  signal?.addEventListener("abort", abort, { once: true });
  // The last statuses (a failing step's logs among them) may come just after Solve returns.
  const lastStatuses = () => Promise.race([statusDone, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  try {
    const response = await solveCall.response;
    await lastStatuses();
    return { exporterResponse: { ...response.ExporterResponse }, files: [...session.written] };
  } catch (e) {
    if (signal?.aborted) throw new BuildkitError("the build was cancelled");
    await lastStatuses();
    const error = callError("the build", address, e);
    throw failed && error.code === grpc.status.UNAVAILABLE ? new BuildkitError(`${error.message} (session: ${failed.message})`, error.code) : error;
  } finally {
    signal?.removeEventListener("abort", abort);
    status.cancel();
    session.close();
  }
}

/** The SolveRequest, with the exporters both in the v0.11 fields and in `Exporters` (v0.13+). */
function solveRequest(request: BuildRequest, graph: Definition | undefined, ref: string, session: string): MessageInitShape<typeof SolveRequestSchema> {
  const exporters = (request.exports ?? []).map((e) => {
    const attrs: Record<string, string> = { ...e.attrs };
    if (e.name !== undefined) attrs["name"] = e.name;
    if ("push" in e && e.push) attrs["push"] = "true";
    if (request.imageConfig !== undefined) attrs["containerimage.config"] = request.imageConfig;
    return { Type: e.type, Attrs: attrs };
  });
  const frontendAttrs: Record<string, string> = { ...request.frontendAttrs };
  if (request.sourceDateEpoch !== undefined) frontendAttrs["build-arg:SOURCE_DATE_EPOCH"] = String(Math.trunc(request.sourceDateEpoch));
  const entry = (c: CacheEntry) => ({ Type: c.type, Attrs: { ...c.attrs } });
  return {
    Ref: ref,
    ...(graph ? { Definition: graph } : {}),
    Exporter: exporters[0]?.Type ?? "",
    ExporterAttrs: exporters[0]?.Attrs ?? {},
    Exporters: exporters,
    Session: session,
    Frontend: request.frontend ?? "",
    FrontendAttrs: frontendAttrs,
    Cache: { Imports: (request.cacheImports ?? []).map(entry), Exports: (request.cacheExports ?? []).map(entry) },
    Entitlements: request.entitlements ?? [],
  };
}

function definition(bytes: Uint8Array): Definition {
  try {
    return fromBinary(DefinitionSchema, bytes);
  } catch (e) {
    throw new BuildkitError(`the definition is not a marshalled pb.Definition (llb.pb): ${e instanceof Error ? e.message : String(e)}.`);
  }
}

/** Reads every secret before the build starts, so that a missing one fails at once, by name. */
async function readSecrets(sources: Record<string, SecretSource>, env: Record<string, string | undefined>): Promise<Map<string, Uint8Array>> {
  const secrets = new Map<string, Uint8Array>();
  for (const [id, source] of Object.entries(sources)) {
    if ("env" in source) {
      const value = env[source.env];
      if (value === undefined) throw new BuildkitError(`the build secret ${JSON.stringify(id)} reads the variable ${source.env}, which is not set. Set it before building.`);
      secrets.set(id, Buffer.from(value));
    } else if ("file" in source) {
      try {
        secrets.set(id, await readFile(source.file));
      } catch (e) {
        throw new BuildkitError(`the build secret ${JSON.stringify(id)} reads ${source.file}, which cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"}).`);
      }
    } else secrets.set(id, typeof source.value === "string" ? Buffer.from(source.value) : source.value);
  }
  return secrets;
}

