/**
 * References for the client: core's parser (Docker's grammar, one definition for the project),
 * plus what only a client needs: the tag Docker pulls by default and Docker Hub's API host.
 */
import { parseImageRef, type ImageRef } from "@dockwright/core";
import { invalidReference } from "./errors.js";

/** Parses a reference as Docker does; throws a `RegistryError` (REGISTRY_INVALID_REFERENCE) naming the problem. */
export function parseReference(text: string): ImageRef {
  const parsed = parseImageRef(text);
  if (!parsed.ok) throw invalidReference(text, parsed.problem);
  return parsed.ref;
}

/** What the manifest request names: the digest, else the tag, else `latest`, as `docker pull` does. */
export function manifestReference(ref: ImageRef): string {
  return ref.digest ?? ref.tag ?? "latest";
}

/** The host that serves a registry's API: Docker Hub's is not `docker.io`. */
export function apiHost(registry: string): string {
  return registry === "docker.io" ? "registry-1.docker.io" : registry;
}
