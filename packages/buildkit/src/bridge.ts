/**
 * Connections grpc-js cannot dial itself, behind a private unix socket that it can: each
 * connection to the socket is piped to a stream that `dial` opens. Two dialers: buildctl's
 * `docker-container://` connection helper (`docker exec -i NAME buildctl dial-stdio`), and Docker's
 * engine, whose `/grpc` endpoint serves BuildKit's Control API after an HTTP/1.1 upgrade to h2c
 * (as buildx's docker driver dials it).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Duplex } from "node:stream";
import { BuildkitError } from "./errors.js";

export type Bridge = { socket: string; close(): void };

export type Dial = () => Promise<Duplex>;

export async function bridge(dial: Dial): Promise<Bridge> {
  const dir = mkdtempSync(path.join(tmpdir(), "dockwright-bridge-"));
  const socket = path.join(dir, "bridge.sock");
  const connections = new Set<Socket>();
  const server = createServer((connection) => {
    connections.add(connection);
    connection.on("close", () => connections.delete(connection));
    connection.on("error", () => {});
    dial().then((stream) => {
      stream.on("error", (e) => connection.destroy(e));
      connection.on("close", () => stream.destroy());
      connection.pipe(stream).pipe(connection);
    }, (e: unknown) => connection.destroy(e instanceof Error ? e : new Error(String(e))));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socket, resolve);
  });
  return {
    socket,
    close() {
      for (const connection of connections) connection.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A command's standard input and output as one stream (a connection helper's stdio bridge). */
export function commandDial(command: string, args: readonly string[]): Dial {
  return async () => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
    child.on("error", (e: NodeJS.ErrnoException) => stream.destroy(new BuildkitError(`cannot run ${command} (${e.code}) for the connection helper`)));
    child.on("close", (code) => {
      if (code !== 0) stream.destroy(new BuildkitError(`${command} ${args.join(" ")} exited with ${code}: ${stderr.trim()}`));
    });
    stream.on("close", () => child.kill());
    return stream;
  };
}

/** Docker's engine at a unix socket, upgraded to h2c on `/grpc`. */
export function engineDial(engineSocket: string): Dial {
  return () => new Promise((resolve, reject) => {
    const engine = connect(engineSocket);
    engine.once("error", (e: NodeJS.ErrnoException) => reject(new BuildkitError(`cannot reach Docker's engine at ${engineSocket} (${e.code})`)));
    engine.write("POST /grpc HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 0\r\n\r\n");
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      engine.off("data", onData);
      engine.pause();
      const status = head.subarray(0, head.indexOf("\r\n")).toString();
      if (!/^HTTP\/1\.1 101 /.test(status)) {
        engine.destroy();
        return reject(new BuildkitError(`Docker's engine at ${engineSocket} did not switch to BuildKit's protocol: it answered ${JSON.stringify(status)}`));
      }
      engine.unshift(head.subarray(end + 4));
      resolve(engine);
    };
    engine.on("data", onData);
  });
}
