/**
 * Puts small test images into a registry by the distribution API directly (monolithic blob
 * uploads, then the manifest), written apart from the client under test so that each checks
 * the other. A layer is a deterministic tar of the given files (the context package's writer),
 * gzipped; the configuration says what the image's Env, User, Cmd, ... are.
 */
import { createHash } from "node:crypto";
import { PassThrough } from "node:stream";
import { gzipSync } from "node:zlib";
import { writeContextTar } from "@dockwright/context";
import type { ContainerConfig, Platform } from "@dockwright/registry";
import { Agent, fetch } from "undici";

export type PushTarget = {
  /** `http://HOST` or `https://HOST`. */
  url: string;
  repository: string;
  /** A ready Authorization header value (Basic for htpasswd, a minted Bearer token). */
  authorization?: string;
  /** The test CA, for HTTPS registries. */
  ca?: string;
};

export type TestImage = {
  files?: Record<string, string>;
  config?: ContainerConfig;
  platform?: Platform;
  /** Docker's schema 2 media types instead of OCI's. */
  docker?: boolean;
};

export type Pushed = { digest: string; configDigest: string; layerDigest: string; mediaType: string; size: number };

const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

async function layerTar(files: Record<string, string>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (chunk: Buffer) => chunks.push(chunk));
  await writeContextTar(out, "/nonexistent", { entries: [] }, Object.entries(files).map(([path, contents]) => ({ path, contents })));
  return Buffer.concat(chunks);
}

function client(target: PushTarget) {
  const dispatcher = target.ca ? new Agent({ connect: { ca: target.ca } }) : undefined;
  const headers = (extra: Record<string, string> = {}) => ({ ...extra, ...(target.authorization ? { authorization: target.authorization } : {}) });
  const call = async (url: string, init: { method: string; body?: Buffer; headers?: Record<string, string> }, want: number) => {
    const response = await fetch(url, { ...init, headers: headers(init.headers), ...(dispatcher ? { dispatcher } : {}) });
    if (response.status !== want) throw new Error(`${init.method} ${url}: HTTP ${response.status} ${await response.text()}`);
    return response;
  };
  return {
    async blob(bytes: Buffer): Promise<string> {
      const digest = sha256(bytes);
      const started = await call(`${target.url}/v2/${target.repository}/blobs/uploads/`, { method: "POST" }, 202);
      const location = new URL(started.headers.get("location")!, target.url);
      location.searchParams.set("digest", digest);
      await call(location.toString(), { method: "PUT", body: bytes, headers: { "content-type": "application/octet-stream" } }, 201);
      return digest;
    },
    async manifest(reference: string, mediaType: string, bytes: Buffer): Promise<string> {
      await call(`${target.url}/v2/${target.repository}/manifests/${reference}`, { method: "PUT", body: bytes, headers: { "content-type": mediaType } }, 201);
      return sha256(bytes);
    },
    close: () => dispatcher?.close(),
  };
}

/** Pushes one image; tagged `tag` when given (else only by digest, as an index's entries are). */
export async function pushImage(target: PushTarget, image: TestImage = {}, tag?: string): Promise<Pushed> {
  const api = client(target);
  try {
    const platform = image.platform ?? { os: "linux", architecture: "amd64" };
    const tar = await layerTar(image.files ?? { "hello.txt": `hello from ${target.repository}\n` });
    const layer = gzipSync(tar);
    const config = Buffer.from(JSON.stringify({
      ...platform,
      config: image.config ?? {},
      rootfs: { type: "layers", diff_ids: [sha256(tar)] },
      history: [{ created_by: "pushImage (dockwright tests)" }],
    }));
    const layerDigest = await api.blob(layer);
    const configDigest = await api.blob(config);
    const types = image.docker
      ? { manifest: "application/vnd.docker.distribution.manifest.v2+json", config: "application/vnd.docker.container.image.v1+json", layer: "application/vnd.docker.image.rootfs.diff.tar.gzip" }
      : { manifest: "application/vnd.oci.image.manifest.v1+json", config: "application/vnd.oci.image.config.v1+json", layer: "application/vnd.oci.image.layer.v1.tar+gzip" };
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: types.manifest,
      config: { mediaType: types.config, digest: configDigest, size: config.length },
      layers: [{ mediaType: types.layer, digest: layerDigest, size: layer.length }],
    }, null, 2));
    const digest = await api.manifest(tag ?? sha256(manifest), types.manifest, manifest);
    return { digest, configDigest, layerDigest, mediaType: types.manifest, size: manifest.length };
  } finally {
    await api.close();
  }
}

/** Pushes one image per platform and a multi-platform index (OCI) or manifest list (Docker) over them, tagged `tag`. */
export async function pushIndex(target: PushTarget, images: TestImage[], tag: string, options: { docker?: boolean } = {}): Promise<{ digest: string; images: Pushed[] }> {
  const pushed = [];
  for (const image of images) pushed.push(await pushImage(target, { ...image, docker: options.docker }));
  const mediaType = options.docker ? "application/vnd.docker.distribution.manifest.list.v2+json" : "application/vnd.oci.image.index.v1+json";
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType,
    manifests: pushed.map((p, i) => ({ mediaType: p.mediaType, digest: p.digest, size: p.size, platform: images[i]!.platform })),
  }));
  const api = client(target);
  try {
    return { digest: await api.manifest(tag, mediaType, index), images: pushed };
  } finally {
    await api.close();
  }
}
