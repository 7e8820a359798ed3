/**
 * A plain-HTTP proxy in front of a test registry that injects faults: per request, a rule may
 * answer a status of its own (503, 429 with Retry-After, 405), drop the connection, hold the
 * request unanswered, rewrite the path, or alter the response body. Every request is recorded
 * with what was done to it.
 */
import { createServer, request as forward, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export type Fault =
  | { status: number; headers?: Record<string, string>; body?: string }
  | { drop: true }
  | { hang: true }
  | { path: string }
  | { body: (original: Buffer) => Buffer };

export type Seen = { method: string; path: string; fault?: string; status?: number };

export type FaultProxy = {
  host: string;
  seen: Seen[];
  /** Replaces the rule; `n` counts the requests the rule has been asked about, from 0. */
  rule(rule: (request: { method: string; path: string }, n: number) => Fault | undefined): void;
  stop(): Promise<void>;
};

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let current: (request: { method: string; path: string }, n: number) => Fault | undefined = () => undefined;
  let count = 0;
  const seen: Seen[] = [];
  const held: IncomingMessage[] = [];

  const server = createServer((req, res) => {
    const method = req.method ?? "GET";
    const fault = current({ method, path: req.url ?? "/" }, count++);
    const entry: Seen = { method, path: req.url ?? "/" };
    seen.push(entry);
    if (fault && "status" in fault) {
      entry.fault = `status ${fault.status}`;
      entry.status = fault.status;
      req.resume();
      res.writeHead(fault.status, { "content-type": "application/json", ...fault.headers });
      res.end(fault.body ?? JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: "injected by the fault proxy" }] }));
      return;
    }
    if (fault && "drop" in fault) {
      entry.fault = "drop";
      req.socket.destroy();
      return;
    }
    if (fault && "hang" in fault) {
      entry.fault = "hang";
      held.push(req);
      return;
    }
    const path = fault && "path" in fault ? fault.path : req.url ?? "/";
    if (fault && "path" in fault) entry.fault = `path ${path}`;
    const out = forward({ host: upstream.hostname, port: upstream.port, method, path, headers: req.headers }, (answer) => {
      entry.status = answer.statusCode;
      if (fault && "body" in fault) {
        entry.fault = "body";
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          const body = fault.body(Buffer.concat(chunks));
          res.writeHead(answer.statusCode ?? 502, { ...answer.headers, "content-length": String(body.length) });
          res.end(body);
        });
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on("error", () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    seen,
    rule(rule) {
      current = rule;
      count = 0;
    },
    stop: () => new Promise((resolve) => {
      for (const req of held) req.socket.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
