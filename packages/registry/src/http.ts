/**
 * HTTP for the client: undici's fetch (the implementation of Node's own `fetch`), because only
 * its dispatcher takes a CA per client. Requests time out, and are retried with exponential
 * backoff on 429, 5xx and connection errors, honouring Retry-After. Connection failures become
 * typed errors: TLS verification, a plain-HTTP server where HTTPS was expected, unreachable.
 * Log lines say method, address and status; never a header.
 */
import { rootCertificates } from "node:tls";
import { Agent, fetch, type RequestInit, type Response } from "undici";
import { insecureRefused, tlsFailed, unavailable, unreachable, type Where } from "./errors.js";

export type HttpOptions = {
  /** Extra CAs (PEM), trusted besides the system's roots. */
  ca: readonly string[];
  /** `host[:port]` values (lower case) that may use plain HTTP and unverified TLS. */
  insecure: ReadonlySet<string>;
  timeoutMs: number;
  retries: number;
  retryBaseMs: number;
  maxRetryDelayMs: number;
  log: (line: string) => void;
};

export type Request = RequestInit & {
  /** The body streams or the response is streamed on: no overall deadline, no retry. */
  streaming?: boolean;
  /** One attempt only: a probe of whether the host speaks HTTPS. */
  probe?: boolean;
};

export type Http = {
  fetch(url: URL, init: Request, where: Where): Promise<Response>;
  isInsecure(host: string): boolean;
  close(): Promise<void>;
};

const retryStatus = new Set([429, 500, 502, 503, 504]);

export function createHttp(options: HttpOptions): Http {
  const timeouts = { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs };
  const verified = new Agent({ ...timeouts, connect: { timeout: options.timeoutMs, ...(options.ca.length > 0 ? { ca: [...rootCertificates, ...options.ca] } : {}) } });
  const unverified = new Agent({ ...timeouts, connect: { timeout: options.timeoutMs, rejectUnauthorized: false } });
  const isInsecure = (host: string) => options.insecure.has(host.toLowerCase());

  async function send(url: URL, init: Request, where: Where): Promise<Response> {
    const insecure = isInsecure(url.host);
    if (url.protocol === "http:" && !insecure) throw insecureRefused(where, `${url.origin} is plain HTTP`);
    const dispatcher = insecure ? unverified : verified;
    const replayable = !init.streaming || init.body === undefined || init.body === null;
    const attempts = (replayable && !init.probe ? options.retries : 0) + 1;
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      let response: Response;
      try {
        const { streaming: _streaming, probe: _probe, ...rest } = init;
        response = await fetch(url, {
          ...rest,
          dispatcher,
          ...(init.streaming ? {} : { signal: AbortSignal.timeout(options.timeoutMs) }),
        });
      } catch (error) {
        const failure = classify(error, options.timeoutMs);
        options.log(`${init.method ?? "GET"} ${shown(url)} failed: ${failure.detail}`);
        if (failure.kind === "tls" && !insecure) throw tlsFailed(where, failure.detail);
        if (failure.kind === "not-https" && !insecure) throw insecureRefused(where, `${url.host} does not speak HTTPS (${failure.detail})`);
        if (failure.kind === "not-https" || attempt >= attempts) throw unreachable(where, failure.detail, attempt);
        await sleep(backoff(attempt));
        continue;
      }
      options.log(`${init.method ?? "GET"} ${shown(url)} ${response.status} (${Date.now() - started} ms)`);
      if (!retryStatus.has(response.status)) return response;
      await discard(response);
      const retryAfter = retryAfterMs(response.headers.get("retry-after"));
      if (attempt >= attempts || (retryAfter !== undefined && retryAfter > options.maxRetryDelayMs)) {
        throw unavailable(where, response.status, attempt, retryAfter !== undefined ? Math.ceil(retryAfter / 1000) : undefined);
      }
      const wait = retryAfter ?? backoff(attempt);
      options.log(`retrying in ${wait} ms (${attempt}/${attempts - 1})`);
      await sleep(wait);
    }
  }

  function backoff(attempt: number): number {
    return Math.min(options.retryBaseMs * 2 ** (attempt - 1), options.maxRetryDelayMs);
  }

  return {
    fetch: send,
    isInsecure,
    async close() {
      await Promise.all([verified.close(), unverified.close()]);
    },
  };
}

/** An address for logs: origin and path, without the query (upload states, scopes). */
function shown(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Retry-After in milliseconds: delay-seconds or an HTTP date. */
function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

type Failure = { kind: "tls" | "not-https" | "connection"; detail: string };

const tlsCodes = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_|HOSTNAME_MISMATCH/;

/** undici rejects with `TypeError: fetch failed` and the socket's error as `cause`. */
function classify(error: unknown, timeoutMs: number): Failure {
  const cause = (error as { cause?: unknown }).cause ?? error;
  const code = String((cause as NodeJS.ErrnoException | undefined)?.code ?? "");
  const name = (error as Error | undefined)?.name ?? "";
  if (name === "TimeoutError" || name === "AbortError" || /TIMEOUT/.test(code)) return { kind: "connection", detail: `no answer within ${timeoutMs} ms` };
  const message = String((cause as Error | undefined)?.message ?? error);
  if (tlsCodes.test(code)) return { kind: "tls", detail: `${code}: ${message}` };
  if (/^ERR_SSL_|^EPROTO$/.test(code) || /wrong version number|packet length too long/i.test(message)) return { kind: "not-https", detail: code || message };
  return { kind: "connection", detail: code ? `${code}` : message };
}

/** Reads no more of a response, so that its connection is freed. */
export async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}
