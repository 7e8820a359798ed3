/**
 * The session: a `Control.Session` call whose messages carry a byte stream each way, inside which
 * the daemon is an HTTP/2 (h2c) client and we are a gRPC server. The stream is injected into a
 * grpc-js Server (`createConnectionInjector`, grpc-js >= 1.11) that hosts Health (mandatory: the
 * daemon checks it every 5 s), FileSync for local sources, FileSend for tarball exports, Secrets
 * and Auth. The headers announce the session's id, its shared key and every hosted method.
 */
import { create } from "@bufbuild/protobuf";
import grpc from "@grpc/grpc-js";
import { randomUUID } from "node:crypto";
import { Duplex } from "node:stream";
import { bidiStream, fail, grpcError, methodPaths, serviceDefinition } from "./rpc.js";
import {
  Auth,
  SessionBytesSchema,
  type SessionBytes,
  Control,
  CredentialsResponseSchema,
  FileSend,
  FileSync,
  GetSecretResponseSchema,
  Health,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
  Secrets,
  type BytesMessage,
  type CredentialsRequest,
  type CredentialsResponse,
  type GetSecretRequest,
  type GetSecretResponse,
  type HealthCheckRequest,
  type HealthCheckResponse,
  type Packet,
} from "./proto.js";
import { sendDirectory, type PacketChannel, type SyncStats } from "./filesync.js";
import { receiveFile } from "./filesend.js";

/** Registry credentials for a host (`index.docker.io`, `127.0.0.1:5000`), or none (anonymous). */
export type Credentials = (host: string) => { username: string; secret: string } | undefined | Promise<{ username: string; secret: string } | undefined>;

/** What the session serves to one build. */
export type SessionServices = {
  /** Local directories by source name (`local://NAME`). */
  locals: Record<string, string>;
  /** Tarball destinations, by exporter index (FileSend). */
  tarballs: string[];
  /** Secret values by id, already read. */
  secrets: Map<string, Uint8Array>;
  credentials?: Credentials;
  /** Called after each FileSync call with its name and counts. */
  onSync?: (name: string, stats: SyncStats) => void;
  tracePackets?: PacketTrace;
};

/** Sees every FileSync packet of a local directory, both ways (debugging, recording exchanges). */
export type PacketTrace = (local: string, direction: "sent" | "received", packet: Packet) => void;

export type Session = {
  id: string;
  /** Ends the session and the server inside it. */
  close(): void;
  /** Files written through FileSend (complete ones). */
  written: string[];
};

/** Messages up to this size, both ways (the daemon allows 16 MiB; grpc-js's default is 4 MiB). */
export const maxMessage: number = 32 * 1024 * 1024;

/** Opens the session on `client`; the daemon connects back through it as soon as it is open. */
export function openSession(client: grpc.Client, sharedKey: string, services: SessionServices, onError: (e: Error) => void): Session {
  const id = randomUUID();
  const server = new grpc.Server({ "grpc.max_receive_message_length": maxMessage, "grpc.max_send_message_length": maxMessage });
  const written: string[] = [];
  const hosted: string[] = [];
  const host = (service: Parameters<typeof serviceDefinition>[0], implementation: grpc.UntypedServiceImplementation, methods?: string[]) => {
    server.addService(serviceDefinition(service), implementation);
    hosted.push(...(methods ?? methodPaths(service)));
  };

  host(Health, {
    check: (_call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, done: grpc.sendUnaryData<HealthCheckResponse>) =>
      done(null, create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus.SERVING })),
    watch: unimplementedStream,
    list: unimplemented,
  }, ["/grpc.health.v1.Health/Check"]);

  host(FileSync, {
    diffCopy: (call: grpc.ServerDuplexStream<Packet, Packet>) => serveLocal(call, services),
    tarStream: unimplementedStream,
  }, ["/moby.filesync.v1.FileSync/DiffCopy"]);

  if (services.tarballs.length > 0) {
    host(FileSend, {
      diffCopy: (call: grpc.ServerDuplexStream<BytesMessage, BytesMessage>) => {
        const index = Number(call.metadata.get("buildkit-attachable-exporter-id")[0] ?? 0);
        const dest = services.tarballs[index];
        if (dest === undefined) return fail(call, grpc.status.NOT_FOUND, `no tarball output for exporter ${index}`);
        receiveFile(call, dest).then(() => written.push(dest), () => {});
      },
    });
  }

  host(Secrets, {
    getSecret: (call: grpc.ServerUnaryCall<GetSecretRequest, GetSecretResponse>, done: grpc.sendUnaryData<GetSecretResponse>) => {
      const value = services.secrets.get(call.request.ID);
      // The daemon shows this message: the id only, never a value.
      if (!value) return done(grpcError(grpc.status.NOT_FOUND, `secret ${JSON.stringify(call.request.ID)} not found: the build was given no secret by that id`));
      done(null, create(GetSecretResponseSchema, { data: value }));
    },
  });

  host(Auth, {
    credentials: (call: grpc.ServerUnaryCall<CredentialsRequest, CredentialsResponse>, done: grpc.sendUnaryData<CredentialsResponse>) => {
      Promise.resolve(services.credentials?.(call.request.Host)).then(
        (found) => done(null, create(CredentialsResponseSchema, found ? { Username: found.username, Secret: found.secret } : {})),
        () => done(null, create(CredentialsResponseSchema, {})),
      );
    },
    fetchToken: unimplemented,
    getTokenAuthority: unimplemented,
    verifyTokenAuthority: unimplemented,
  }, ["/moby.filesync.v1.Auth/Credentials"]);

  const metadata = new grpc.Metadata();
  metadata.set("x-docker-expose-session-uuid", id);
  metadata.set("x-docker-expose-session-name", "dockwright");
  metadata.set("x-docker-expose-session-sharedkey", sharedKey);
  for (const method of hosted) metadata.add("x-docker-expose-session-grpc-method", method);

  const call = bidiStream(client, Control.method.session, metadata);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const tunnel = new Tunnel(call);
  let closed = false;
  tunnel.on("error", (e) => {
    if (!closed) onError(e);
  });
  injector.injectConnection(tunnel);
  return {
    id,
    written,
    close() {
      if (closed) return;
      closed = true;
      injector.destroy();
      server.forceShutdown();
      call.cancel();
      tunnel.destroy();
    },
  };
}

/** The byte stream carried by the Session call's BytesMessages, as a Duplex for the HTTP/2 server. */
class Tunnel extends Duplex {
  readonly #call: grpc.ClientDuplexStream<SessionBytes, SessionBytes>;

  constructor(call: grpc.ClientDuplexStream<SessionBytes, SessionBytes>) {
    super();
    this.#call = call;
    call.on("data", (message: SessionBytes) => {
      const { data } = message;
      if (!this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength))) call.pause();
    });
    call.on("end", () => this.push(null));
    call.on("error", (e) => this.destroy(e));
  }

  override _read(): void {
    this.#call.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#send(chunk, done);
  }

  /** HTTP/2 writes frames in many small pieces: one message for all that is waiting. */
  override _writev(chunks: { chunk: Buffer }[], done: (error?: Error | null) => void): void {
    this.#send(Buffer.concat(chunks.map(({ chunk }) => chunk)), done);
  }

  #send(data: Buffer, done: (error?: Error | null) => void): void {
    if (this.#call.write(create(SessionBytesSchema, { data }))) done();
    else this.#call.once("drain", () => done());
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#call.end();
    done();
  }
}

/** FileSync.DiffCopy: the directory named by the call's `dir-name`, filtered as its metadata says. */
function serveLocal(call: grpc.ServerDuplexStream<Packet, Packet>, services: SessionServices): void {
  const name = metadataValues(call.metadata, "dir-name")[0] ?? "";
  const dir = services.locals[name];
  if (dir === undefined) {
    fail(call, grpc.status.NOT_FOUND, `no local directory ${JSON.stringify(name)} was given to this build`);
    return;
  }
  const channel = packetChannel(call, name, services.tracePackets);
  const filter = {
    includePatterns: metadataValues(call.metadata, "include-patterns"),
    excludePatterns: metadataValues(call.metadata, "exclude-patterns"),
    followPaths: metadataValues(call.metadata, "followpaths"),
  };
  sendDirectory(channel, dir, filter).then(
    (stats) => {
      services.onSync?.(name, stats);
      call.end();
    },
    (e: unknown) => fail(call, grpc.status.UNKNOWN, e instanceof Error ? e.message : String(e)),
  );
}

/**
 * One DiffCopy call as packets. Neither end waits forever on a call the daemon dropped: a
 * cancelled build closes it with neither a drain nor an end, and a sender or reader left waiting
 * would hold its open file until the garbage collector closed it.
 */
export function packetChannel(call: grpc.ServerDuplexStream<Packet, Packet>, name: string, trace?: PacketTrace): PacketChannel {
  return {
    send: (packet) => new Promise((resolve, reject) => {
      trace?.(name, "sent", packet);
      if (call.destroyed || call.cancelled) return reject(closedCall());
      if (call.write(packet)) return resolve();
      const settle = (error?: Error) => {
        call.off("drain", onDrain).off("close", onClose).off("cancelled", onClose);
        error ? reject(error) : resolve();
      };
      const onDrain = () => settle();
      const onClose = () => settle(closedCall());
      call.on("drain", onDrain).on("close", onClose).on("cancelled", onClose);
    }),
    receive: () => (trace ? traced(messages(call), (packet) => trace(name, "received", packet)) : messages(call)),
  };
}

function closedCall(): Error {
  return new Error("the daemon closed the FileSync call");
}

/**
 * The messages of a call until it ends. Unlike the stream's own iterator, leaving the loop early
 * does not destroy the call, which must still end with a status (FileSync's FIN handshake).
 */
async function* messages<T>(call: grpc.ServerDuplexStream<T, unknown>): AsyncGenerator<T> {
  const queue: T[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const onData = (message: T) => {
    queue.push(message);
    if (queue.length > 64) call.pause();
    notify();
  };
  const onEnd = () => ((ended = true), notify());
  const onError = (e: Error) => ((failure = e), notify());
  const onCancelled = () => ((failure ??= closedCall()), notify());
  call.on("data", onData);
  call.on("end", onEnd);
  call.on("error", onError);
  call.on("cancelled", onCancelled);
  try {
    for (;;) {
      const message = queue.shift();
      if (message !== undefined) {
        if (queue.length < 16) call.resume();
        yield message;
      } else if (failure) throw failure;
      else if (ended) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    call.off("data", onData);
    call.off("end", onEnd);
    call.off("error", onError);
    call.off("cancelled", onCancelled);
  }
}

async function* traced<T>(source: AsyncIterable<T>, see: (item: T) => void): AsyncGenerator<T> {
  for await (const item of source) {
    see(item);
    yield item;
  }
}

/**
 * The values of a metadata key. The daemon sends one header field per value; Node's HTTP/2 joins
 * repeated fields with ", ", so they are split there again (a pattern holding ", " itself cannot be
 * told apart). With `<key>-encoded: 1` the values are URL query-escaped (Go's url.QueryEscape, for
 * non-ASCII names), commas included.
 */
export function metadataValues(metadata: grpc.Metadata, key: string): string[] {
  const values = metadata.get(key).flatMap((value) => String(value).split(", "));
  if (String(metadata.get(`${key}-encoded`)[0] ?? "") !== "1") return values;
  return values.map((value) => decodeURIComponent(value.replaceAll("+", " ")));
}

function unimplemented(_call: unknown, done: grpc.sendUnaryData<never>): void {
  done(grpcError(grpc.status.UNIMPLEMENTED, "not implemented by this client"));
}

function unimplementedStream(call: grpc.ServerWritableStream<unknown, unknown>): void {
  fail(call, grpc.status.UNIMPLEMENTED, "not implemented by this client");
}
