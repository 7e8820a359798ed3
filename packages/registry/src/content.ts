/**
 * Reading content from a repository: manifests (checked against the digest asked for, else the
 * registry's Docker-Content-Digest) and blobs (checked against their descriptor), with size caps
 * so that a hostile registry cannot exhaust memory.
 */
import type { ImageRef } from "@dockwright/core";
import type { Response } from "undici";
import { checkDigest, digestOf, isDigest } from "./digest.js";
import { badResponse, notFound, type Where } from "./errors.js";
import { discard } from "./http.js";
import { manifestAccept, parseManifest, type Descriptor, type ImageIndex, type ImageManifest } from "./manifest.js";
import type { Session } from "./session.js";

/** Distribution refuses manifests over 4 MiB; configurations are far smaller. */
const manifestMax = 4 << 20;
const configMax = 16 << 20;

export type FetchedManifest = {
  bytes: Buffer;
  digest: string;
  parsed: ImageIndex | ImageManifest;
};

export async function getManifest(session: Session, where: Where, ref: ImageRef, reference: string, scopes: readonly string[]): Promise<FetchedManifest> {
  const response = await session.request(where, "GET", `/v2/${ref.repository}/manifests/${reference}`, scopes, { headers: { accept: manifestAccept } });
  if (response.status === 404) throw notFound(where, `the manifest ${reference}`);
  if (!response.ok) throw await unexpected(where, response, `GET manifest ${reference}`);
  const bytes = await readBody(response, manifestMax, where, "the manifest");
  const header = response.headers.get("docker-content-digest");
  const expected = isDigest(reference) ? reference : header !== null && isDigest(header) ? header : undefined;
  if (expected !== undefined) checkDigest(bytes, expected, where, `the manifest ${reference}`);
  return { bytes, digest: expected ?? digestOf(bytes), parsed: parseManifest(bytes, response.headers.get("content-type"), where) };
}

/** A small blob (an image configuration), checked against its descriptor. */
export async function getBlob(session: Session, where: Where, ref: ImageRef, blob: Descriptor, scopes: readonly string[]): Promise<Buffer> {
  if (blob.size > configMax) throw badResponse(where, `the blob ${blob.digest} is ${blob.size} bytes, more than the ${configMax} an image configuration may have`);
  const response = await session.request(where, "GET", `/v2/${ref.repository}/blobs/${blob.digest}`, scopes);
  if (response.status === 404) throw notFound(where, `the blob ${blob.digest}`);
  if (!response.ok) throw await unexpected(where, response, `GET blob ${blob.digest}`);
  const bytes = await readBody(response, blob.size, where, `the blob ${blob.digest}`);
  checkDigest(bytes, blob.digest, where, `the blob ${blob.digest}`);
  return bytes;
}

/** The body, refusing more than `max` bytes. */
export async function readBody(response: Response, max: number, where: Where, what: string): Promise<Buffer> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > max) {
    await discard(response);
    throw badResponse(where, `${what} is ${declared} bytes, more than ${max}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.length;
    if (size > max) {
      await discard(response);
      throw badResponse(where, `${what} is more than ${max} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A response we did not expect, with the registry's error code and message (distribution's `errors`). */
export async function unexpected(where: Where, response: Response, what: string): Promise<Error> {
  let detail = "";
  try {
    const text = (await readBody(response, 64 << 10, where, "the error")).toString("utf8");
    const first = (JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] }).errors?.[0];
    if (first) detail = `: ${String(first.code ?? "")} ${String(first.message ?? "")}`.trimEnd().slice(0, 300);
  } catch {
    // Not JSON: the status says enough.
  }
  return badResponse(where, `${what} answered HTTP ${response.status}${detail}`);
}
