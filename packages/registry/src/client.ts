/**
 * The registry client: resolve a reference to the digest of its manifest for a platform, read an
 * image's configuration, check that a tag or digest exists, and copy a manifest to a new tag.
 */
import { formatImageRef, type ImageRef } from "@dockwright/core";
import { repositoryScope } from "./auth.js";
import { getBlob, getManifest, unexpected, type FetchedManifest } from "./content.js";
import { copyImage, type Tagged } from "./copy.js";
import { credentialsFor, type Credentials } from "./credentials.js";
import { isDigest } from "./digest.js";
import { noMatchingPlatform, notFound, type Where } from "./errors.js";
import { createHttp, discard } from "./http.js";
import { isManifestType, manifestAccept, parseImageConfig, type ImageConfig } from "./manifest.js";
import { choosePlatform, formatPlatform, hostPlatform, toPlatform, type Platform, type PlatformInput } from "./platform.js";
import { manifestReference, parseReference } from "./reference.js";
import { createSession, type Session } from "./session.js";

export type RegistryClientOptions = {
  /**
   * Registries (`host[:port]`) that may be reached over plain HTTP, or HTTPS without verifying the
   * certificate, as Docker's `insecure-registries`. Added to DOCKWRIGHT_INSECURE_REGISTRIES
   * (comma- or space-separated) from `env`.
   */
  insecure?: readonly string[];
  /** CA certificates (PEM) trusted besides the system's roots, e.g. a company CA. */
  ca?: string | Buffer | readonly (string | Buffer)[];
  /** The folder of Docker's `config.json`, as DOCKER_CONFIG; default `$DOCKER_CONFIG`, else `~/.docker`. */
  dockerConfig?: string;
  /** Where credentials come from; default Docker's rules (`credentialsFor`). */
  credentials?: (registry: string) => Promise<Credentials | undefined>;
  /** Time for one request, in milliseconds (default 30,000). */
  timeoutMs?: number;
  /** Retries of a request after 429, 5xx or a connection error (default 4). */
  retries?: number;
  /** The first backoff delay, doubled on each retry (default 500 ms). */
  retryBaseMs?: number;
  /** The longest wait between tries; a Retry-After beyond it fails at once (default 10,000 ms). */
  maxRetryDelayMs?: number;
  /** The environment: DOCKER_CONFIG, HOME, PATH (credential helpers), DOCKWRIGHT_INSECURE_REGISTRIES. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** One line per request, token and retry; never a header or a secret. */
  log?: (line: string) => void;
};

export type Resolved = {
  /** The reference pinned to the platform's manifest: `docker.io/library/python:3.11@sha256:…`. */
  reference: string;
  /** What the tag points at: the index of a multi-platform image, else the manifest itself. */
  digest: string;
  /** The image manifest for the platform; equal to `digest` for a single-platform image. */
  manifestDigest: string;
  mediaType: string;
  /** The platform of the index entry chosen; absent for a single-platform image. */
  platform?: Platform;
};

export type ResolvedConfig = Resolved & {
  /** The digest of the configuration blob (the image ID). */
  configDigest: string;
  config: ImageConfig;
};

export type RegistryClient = {
  /** The digest a reference points at, following a multi-platform index to `platform` (default: this machine's, on Linux). */
  resolve(ref: string, platform?: PlatformInput): Promise<Resolved>;
  /** The image configuration for `platform` (Env, User, WorkingDir, Cmd, Entrypoint, Labels, ...), its digest verified. */
  imageConfig(ref: string, platform?: PlatformInput): Promise<ResolvedConfig>;
  /** Whether the tag or digest exists (HEAD, with a GET where the registry does not support HEAD). */
  exists(ref: string): Promise<boolean>;
  /**
   * Points `destination` at the manifest of `source`: a new tag in the same repository, or a copy
   * into another repository (blobs mounted across repositories of one registry, else copied).
   */
  tag(source: string, destination: string): Promise<Tagged>;
  /**
   * Docker's credentials for a registry host (config.json, or its helper), as this client uses
   * them: looked up once per host, their secrets kept out of every error and log line.
   */
  credentials(host: string): Promise<Credentials | undefined>;
  /** Closes the connections the client keeps open. */
  close(): Promise<void>;
};

const userAgent = "dockwright-registry/0.1";

/**
 * The hosts reached over plain HTTP: those given and DOCKWRIGHT_INSECURE_REGISTRIES's, each as
 * `host[:port]` in lower case (a scheme or trailing slash written with it is dropped).
 */
export function insecureHosts(given: readonly string[], env: Record<string, string | undefined>): string[] {
  return [...given, ...(env["DOCKWRIGHT_INSECURE_REGISTRIES"] ?? "").split(/[\s,]+/)]
    .map((host) => host.trim().replace(/^https?:\/\//, "").replace(/\/+$/, "").toLowerCase())
    .filter(Boolean);
}

export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  const env = options.env ?? process.env;
  const insecure = insecureHosts(options.insecure ?? [], env);
  const ca = options.ca === undefined ? [] : (Array.isArray(options.ca) ? options.ca : [options.ca]).map(String);
  let session: Session;
  const log = (line: string) => options.log?.(session.redact(line));
  const http = createHttp({
    ca,
    insecure: new Set(insecure),
    timeoutMs: options.timeoutMs ?? 30_000,
    retries: options.retries ?? 4,
    retryBaseMs: options.retryBaseMs ?? 500,
    maxRetryDelayMs: options.maxRetryDelayMs ?? 10_000,
    log,
  });
  const lookup = options.credentials ?? ((registry: string) => credentialsFor(registry, { ...(options.dockerConfig !== undefined ? { dockerConfig: options.dockerConfig } : {}), env }));
  session = createSession(http, lookup, log, userAgent);

  const target = (text: string) => {
    const ref = parseReference(text);
    return { ref, where: { registry: ref.registry, reference: formatImageRef(ref) } satisfies Where, pull: [repositoryScope(ref.repository, "pull")] };
  };

  async function resolveRef(ref: ImageRef, where: Where, scopes: readonly string[], platformInput: PlatformInput | undefined): Promise<Resolved & { fetched?: FetchedManifest }> {
    const want = platformInput === undefined ? hostPlatform() : toPlatform(platformInput);
    const reference = manifestReference(ref);
    const pinned = (manifestDigest: string) => formatImageRef({ ...ref, digest: manifestDigest });
    // HEAD first: it answers single-platform images without a download (and Docker Hub does not count it against pull limits).
    const head = await session.request(where, "HEAD", `/v2/${ref.repository}/manifests/${reference}`, scopes, { headers: { accept: manifestAccept } });
    await discard(head);
    if (head.status === 404) throw notFound(where, `the manifest ${reference}`);
    const headDigest = ref.digest ?? validDigest(head.headers.get("docker-content-digest"));
    const headType = (head.headers.get("content-type") ?? "").split(";")[0]!.trim();
    if (head.ok && headDigest !== undefined && isManifestType(headType)) {
      return { reference: pinned(headDigest), digest: headDigest, manifestDigest: headDigest, mediaType: headType };
    }
    const fetched = await getManifest(session, where, ref, headDigest ?? reference, scopes);
    if (fetched.parsed.kind === "manifest") {
      return { reference: pinned(fetched.digest), digest: fetched.digest, manifestDigest: fetched.digest, mediaType: fetched.parsed.mediaType, fetched };
    }
    const entries = fetched.parsed.manifests.filter((m) => isManifestType(m.mediaType));
    const entry = choosePlatform(entries, want);
    if (!entry) {
      const available = [...new Set(entries.flatMap((m) => (m.platform && m.platform.os !== "unknown" ? [formatPlatform(m.platform)] : [])))];
      throw noMatchingPlatform(where, formatPlatform(want), available);
    }
    return { reference: pinned(entry.digest), digest: fetched.digest, manifestDigest: entry.digest, mediaType: entry.mediaType, ...(entry.platform ? { platform: entry.platform } : {}) };
  }

  return {
    resolve: (text, platform) => session.guard(async () => {
      const { ref, where, pull } = target(text);
      const { fetched: _fetched, ...resolved } = await resolveRef(ref, where, pull, platform);
      return resolved;
    }),

    imageConfig: (text, platform) => session.guard(async () => {
      const { ref, where, pull } = target(text);
      const { fetched, ...resolved } = await resolveRef(ref, where, pull, platform);
      const manifest = fetched ?? (await getManifest(session, where, ref, resolved.manifestDigest, pull));
      if (manifest.parsed.kind !== "manifest") throw notFound(where, `an image manifest at ${resolved.manifestDigest}`);
      const blob = manifest.parsed.config;
      const config = parseImageConfig(await getBlob(session, where, ref, blob, pull), where);
      return { ...resolved, configDigest: blob.digest, config };
    }),

    exists: (text) => session.guard(async () => {
      const { ref, where, pull } = target(text);
      const path = `/v2/${ref.repository}/manifests/${manifestReference(ref)}`;
      for (const method of ["HEAD", "GET"]) {
        const response = await session.request(where, method, path, pull, { headers: { accept: manifestAccept } });
        // Some registries do not implement HEAD on manifests.
        const tryGet = method === "HEAD" && [400, 405, 501].includes(response.status);
        if (!response.ok && response.status !== 404 && !tryGet) throw await unexpected(where, response, `${method} manifest ${manifestReference(ref)}`);
        await discard(response);
        if (!tryGet) return response.ok;
      }
      return false;
    }),

    tag: (source, destination) => session.guard(async () => {
      const from = target(source);
      const to = target(destination);
      return copyImage(session, { ref: from.ref, where: from.where }, { ref: to.ref, where: to.where, text: destination });
    }),

    credentials: (host) => session.credentials(host),
    close: () => http.close(),
  };
}

function validDigest(value: string | null): string | undefined {
  return value !== null && isDigest(value) ? value : undefined;
}
