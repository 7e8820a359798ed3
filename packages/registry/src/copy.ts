/**
 * Copying a manifest to a new tag. In the same repository that is one PUT of the same bytes (so
 * the digest stays). Into another repository, everything the manifest names goes first: the
 * manifests of an index, and the configuration and layers of each image, mounted from the source
 * repository when both are on one registry (no data moves), else streamed from the source to the
 * destination. Blobs the destination already has are skipped.
 */
import { formatImageRef, type ImageRef } from "@dockwright/core";
import { repositoryScope } from "./auth.js";
import { getManifest, unexpected, type FetchedManifest } from "./content.js";
import { invalidReference, notFound, type Where } from "./errors.js";
import { discard } from "./http.js";
import type { Descriptor } from "./manifest.js";
import { manifestReference } from "./reference.js";
import type { Session } from "./session.js";

export type Tagged = {
  /** The destination pinned: `registry/repository:tag@digest`. */
  reference: string;
  /** The digest of the manifest copied; the same at the source and the destination. */
  digest: string;
};

type End = { ref: ImageRef; where: Where; scopes: readonly string[] };

export async function copyImage(session: Session, from: { ref: ImageRef; where: Where }, to: { ref: ImageRef; where: Where; text: string }): Promise<Tagged> {
  if (to.ref.tag === undefined && to.ref.digest === undefined) throw invalidReference(to.text, "the destination of a tag needs a tag");
  const sameRegistry = from.ref.registry === to.ref.registry;
  const sameRepository = sameRegistry && from.ref.repository === to.ref.repository;
  // One token per registry serves the whole copy: push to the destination, pull from the source.
  const destinationScopes = [repositoryScope(to.ref.repository, "pull,push"), ...(sameRegistry && !sameRepository ? [repositoryScope(from.ref.repository, "pull")] : [])];
  const source: End = { ...from, scopes: sameRegistry ? destinationScopes : [repositoryScope(from.ref.repository, "pull")] };
  const destination: End = { ...to, scopes: destinationScopes };

  const top = await getManifest(session, source.where, source.ref, manifestReference(source.ref), source.scopes);
  if (to.ref.digest !== undefined && to.ref.digest !== top.digest) {
    throw invalidReference(to.text, `the destination digest ${to.ref.digest} is not the source's, ${top.digest}`);
  }
  if (!sameRepository) await copyContents(session, source, destination, top, sameRegistry);
  await putManifest(session, destination, to.ref.tag ?? top.digest, top);
  return { reference: formatImageRef({ ...to.ref, digest: top.digest }), digest: top.digest };
}

async function copyContents(session: Session, source: End, destination: End, manifest: FetchedManifest, mount: boolean): Promise<void> {
  if (manifest.parsed.kind === "manifest") {
    for (const blob of [manifest.parsed.config, ...manifest.parsed.layers]) await copyBlob(session, source, destination, blob, mount);
    return;
  }
  for (const child of manifest.parsed.manifests) {
    const fetched = await getManifest(session, source.where, source.ref, child.digest, source.scopes);
    if (fetched.parsed.kind === "index") throw notFound(source.where, `an image manifest at ${child.digest} (indexes inside indexes are not copied)`);
    await copyContents(session, source, destination, fetched, mount);
    await putManifest(session, destination, child.digest, fetched);
  }
}

async function putManifest(session: Session, to: End, reference: string, manifest: FetchedManifest): Promise<void> {
  const response = await session.request(to.where, "PUT", `/v2/${to.ref.repository}/manifests/${reference}`, to.scopes, {
    body: manifest.bytes,
    headers: { "content-type": manifest.parsed.mediaType },
  });
  if (!response.ok) throw await unexpected(to.where, response, `PUT manifest ${reference}`);
  await discard(response);
}

/** Layers that must not be pushed (Windows base layers): they stay where their `urls` say. */
function foreign(blob: Descriptor): boolean {
  return (blob.urls?.length ?? 0) > 0 || /foreign|nondistributable/.test(blob.mediaType);
}

async function copyBlob(session: Session, from: End, to: End, blob: Descriptor, mount: boolean): Promise<void> {
  if (foreign(blob)) return;
  const blobPath = (end: End) => `/v2/${end.ref.repository}/blobs/${blob.digest}`;
  const have = await session.request(to.where, "HEAD", blobPath(to), to.scopes);
  await discard(have);
  if (have.ok) return;
  const query = mount ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from.ref.repository)}` : "";
  const started = await session.request(to.where, "POST", `/v2/${to.ref.repository}/blobs/uploads/${query}`, to.scopes, { body: "" });
  if (started.status === 201) {
    await discard(started);
    return;
  }
  const location = started.headers.get("location");
  if (started.status !== 202 || location === null) throw await unexpected(to.where, started, `POST blob upload for ${blob.digest}`);
  await discard(started);
  // The registry did not mount (or cannot): stream the blob across.
  const download = await session.request(from.where, "GET", blobPath(from), from.scopes, { streaming: true });
  if (download.status === 404) throw notFound(from.where, `the blob ${blob.digest}`);
  if (!download.ok || download.body === null) throw await unexpected(from.where, download, `GET blob ${blob.digest}`);
  // The location may be relative (to the registry) and already carry a query (the upload state).
  const upload = `${location}${location.includes("?") ? "&" : "?"}digest=${encodeURIComponent(blob.digest)}`;
  const done = await session.request(to.where, "PUT", upload, to.scopes, {
    body: download.body,
    duplex: "half",
    streaming: true,
    headers: { "content-type": "application/octet-stream" },
  }).finally(() => discard(download));
  if (done.status !== 201) throw await unexpected(to.where, done, `PUT blob ${blob.digest}`);
  await discard(done);
}
