/**
 * The documents of the OCI image and distribution specs the client reads: indexes (OCI index,
 * Docker manifest list), image manifests (OCI, Docker schema 2) and image configurations. Input
 * from the network is validated; a shape we cannot use is a REGISTRY_BAD_RESPONSE.
 */
import { z } from "zod";
import type { Platform } from "@dockwright/core";
import { isDigest } from "./digest.js";
import { badResponse, type Where } from "./errors.js";

export const mediaTypes = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

/** The Accept header of manifest requests: every type we read, so a registry never down-converts. */
export const manifestAccept: string = Object.values(mediaTypes).join(", ");

const indexTypes = new Set<string>([mediaTypes.ociIndex, mediaTypes.dockerList]);
const manifestTypes = new Set<string>([mediaTypes.ociManifest, mediaTypes.dockerManifest]);

export function isIndexType(mediaType: string): boolean {
  return indexTypes.has(mediaType);
}

export function isManifestType(mediaType: string): boolean {
  return manifestTypes.has(mediaType);
}

export type Descriptor = {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  urls?: string[];
};

export type ImageIndex = { kind: "index"; mediaType: string; manifests: Descriptor[] };
export type ImageManifest = { kind: "manifest"; mediaType: string; config: Descriptor; layers: Descriptor[] };

/** The runtime configuration of an image (the OCI config's `config`, Docker's names). */
export type ContainerConfig = {
  User?: string;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  StopSignal?: string;
  Shell?: string[];
  OnBuild?: string[];
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
};

/** An image configuration blob. Fields that Docker writes as `null` are left out. */
export type ImageConfig = {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: ContainerConfig;
  rootfs: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
};

const digest = z.string().refine(isDigest, "not a digest");
const platform = z.object({ os: z.string(), architecture: z.string(), variant: z.string().optional() });
const descriptor = z.object({
  mediaType: z.string(),
  digest,
  size: z.number().int().nonnegative(),
  platform: platform.optional(),
  urls: z.array(z.string()).optional(),
});
const index = z.object({ manifests: z.array(descriptor) });
const manifest = z.object({ config: descriptor, layers: z.array(descriptor) });

const strings = z.array(z.string());
const containerConfig: z.ZodType<ContainerConfig> = z.looseObject({
  User: z.string().optional(),
  Env: strings.optional(),
  Entrypoint: strings.optional(),
  Cmd: strings.optional(),
  WorkingDir: z.string().optional(),
  Labels: z.record(z.string(), z.string()).optional(),
  ExposedPorts: z.record(z.string(), z.object({})).optional(),
  Volumes: z.record(z.string(), z.object({})).optional(),
  StopSignal: z.string().optional(),
  Shell: strings.optional(),
  OnBuild: strings.optional(),
  Healthcheck: z.looseObject({
    Test: strings.optional(),
    Interval: z.number().optional(),
    Timeout: z.number().optional(),
    StartPeriod: z.number().optional(),
    Retries: z.number().optional(),
  }).optional(),
});
const imageConfig: z.ZodType<ImageConfig> = z.looseObject({
  architecture: z.string(),
  os: z.string(),
  variant: z.string().optional(),
  created: z.string().optional(),
  author: z.string().optional(),
  config: containerConfig.optional(),
  rootfs: z.looseObject({ type: z.string(), diff_ids: z.array(digest) }),
  history: z.array(z.looseObject({
    created: z.string().optional(),
    created_by: z.string().optional(),
    comment: z.string().optional(),
    empty_layer: z.boolean().optional(),
  })).optional(),
});

function parseJson(bytes: Uint8Array, where: Where, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw badResponse(where, `${what} is not JSON`);
  }
}

function problem(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join(".") || "(top)"}: ${issue.message}` : "invalid";
}

/** An index or image manifest; its media type from the document, else from Content-Type. */
export function parseManifest(bytes: Uint8Array, contentType: string | null, where: Where): ImageIndex | ImageManifest {
  const json = parseJson(bytes, where, "the manifest");
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw badResponse(where, "the manifest is not a JSON object");
  const fields = json as Record<string, unknown>;
  if (fields["schemaVersion"] === 1) {
    throw badResponse(where, "the manifest is in schema 1, which Docker retired; push the image again with a current Docker, Buildah or BuildKit");
  }
  const mediaType = typeof fields["mediaType"] === "string" ? fields["mediaType"] : (contentType ?? "").split(";")[0]!.trim();
  if (isIndexType(mediaType) || (!isManifestType(mediaType) && "manifests" in fields)) {
    const parsed = index.safeParse(json);
    if (!parsed.success) throw badResponse(where, `the index is malformed (${problem(parsed.error)})`);
    return { kind: "index", mediaType: isIndexType(mediaType) ? mediaType : mediaTypes.ociIndex, manifests: parsed.data.manifests.map(clean) };
  }
  if (isManifestType(mediaType) || (mediaType === "" && "config" in fields)) {
    const parsed = manifest.safeParse(json);
    if (!parsed.success) throw badResponse(where, `the manifest is malformed (${problem(parsed.error)})`);
    return { kind: "manifest", mediaType: mediaType || mediaTypes.ociManifest, config: clean(parsed.data.config), layers: parsed.data.layers.map(clean) };
  }
  throw badResponse(where, `the manifest has media type ${JSON.stringify(mediaType.slice(0, 100))}, which is neither an image manifest nor an index`);
}

/** Drops fields zod left `undefined`, so descriptors compare and print cleanly. */
function clean(d: z.infer<typeof descriptor>): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.platform) out.platform = d.platform.variant ? d.platform : { os: d.platform.os, architecture: d.platform.architecture };
  if (d.urls) out.urls = d.urls;
  return out;
}

export function parseImageConfig(bytes: Uint8Array, where: Where): ImageConfig {
  const json = parseJson(bytes, where, "the image configuration");
  const parsed = imageConfig.safeParse(withoutNulls(json, 2));
  if (!parsed.success) throw badResponse(where, `the image configuration is malformed (${problem(parsed.error)})`);
  return parsed.data;
}

/** Docker writes unset fields as `null` (`"Cmd": null`); they mean the same as absent ones. */
function withoutNulls(value: unknown, depth: number): unknown {
  if (depth === 0 || typeof value !== "object" || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v, depth - 1)]));
}
