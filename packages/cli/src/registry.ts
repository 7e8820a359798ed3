/**
 * The CLI's side of registries: the flags that name and mark them, one registry client per run
 * (Docker's credential rules, plain HTTP only for hosts marked insecure), and the answer to core's
 * `resolveParent` hook: each registry parent's digest and configuration for the image's platform.
 */
import { codes, DiagnosticError, error, parseImageRef, type ParentConfig, type ParentQuery, type ResolvedParent } from "@dockwright/core";
import { compareCodePoints } from "@dockwright/core/strings";
import { createRegistryClient, insecureHosts, RegistryError, registryCodes, type ContainerConfig, type Credentials, type RegistryClient } from "@dockwright/registry";
import type { RegistryAccess } from "./builders/builder.js";

/** Flags of `compile`, `build` and `explain`. */
export const registryFlags = {
  registry: { type: "string" },
  "insecure-registry": { type: "string", multiple: true },
} as const;

export const registryHelp = `  --registry URI         the container registry images are named under and pushed to,
                         host[:port][/path] (default: the stack's container_registry uri)
  --insecure-registry HOST:PORT
                         allow plain HTTP (or unverified HTTPS) to this registry; repeatable,
                         and DOCKWRIGHT_INSECURE_REGISTRIES (comma-separated) adds more`;

export type Registries = {
  client: RegistryClient;
  access: RegistryAccess;
  /** The `resolveParent` tap: digest and configuration of a parent, once per reference and platform until `forgetParents`. */
  resolveParent(query: ParentQuery): Promise<ResolvedParent | undefined>;
  /** The next compile asks the registry again (a tag may have moved since). */
  forgetParents(): void;
  close(): Promise<void>;
};

export function openRegistries(insecureFlags: readonly string[], env: Record<string, string | undefined>): Registries {
  // The client's own rule, so that Buildah and BuildKit are told exactly the hosts it reaches over HTTP.
  const insecure = new Set(insecureHosts(insecureFlags, env));
  const client = createRegistryClient({ insecure: insecureFlags, env });
  const resolved = new Map<string, Promise<ResolvedParent | undefined>>();
  return {
    client,
    access: {
      insecure: (host) => insecure.has(host.toLowerCase()),
      // The client's own lookup: the daemon asks on every pull and push, config.json is read (or its helper run) once per host.
      credentials: async (host) => daemonCredentials(await client.credentials(host)),
    },
    resolveParent(query) {
      const key = `${query.ref}\0${query.platform.os}/${query.platform.architecture}/${query.platform.variant ?? ""}`;
      let pending = resolved.get(key);
      if (!pending) {
        pending = resolve(client, query);
        resolved.set(key, pending);
      }
      return pending;
    },
    forgetParents: () => resolved.clear(),
    close: () => client.close(),
  };
}

/** Docker's credentials, as a BuildKit daemon takes them. */
function daemonCredentials(found: Credentials | undefined): { username: string; secret: string } | undefined {
  if (found?.username !== undefined && found.password !== undefined) return { username: found.username, secret: found.password };
  // An identity token is a refresh token; BuildKit's auth service takes it as the secret of user `<token>`.
  if (found?.identityToken !== undefined) return { username: "<token>", secret: found.identityToken };
  return undefined;
}

async function resolve(client: RegistryClient, { ref, platform, path }: ParentQuery): Promise<ResolvedParent | undefined> {
  // Buildah and Podman name the images they built and never pulled `localhost/NAME`: no registry holds them.
  const parsed = parseImageRef(ref);
  if (parsed.ok && parsed.ref.registry === "localhost") return undefined;
  try {
    const found = await client.imageConfig(ref, platform);
    return { digest: found.manifestDigest, config: parentConfig(found.config.config ?? {}) };
  } catch (e) {
    if (!(e instanceof RegistryError)) throw e;
    throw new DiagnosticError([error(codes.PARENT_UNRESOLVED, path,
      `cannot resolve the parent image ${JSON.stringify(ref)} in its registry: ${e.message}. ` +
        "Builds start from exactly the digest it resolves to; if only this machine's builder holds the image, build with --no-resolve.")]);
  }
}

/** What a build inherits of the parent's configuration, in the IR's form. */
export function parentConfig(config: ContainerConfig): ParentConfig {
  const pair = (entry: string): [string, string] => {
    const eq = entry.indexOf("=");
    return eq === -1 ? [entry, ""] : [entry.slice(0, eq), entry.slice(eq + 1)];
  };
  return {
    env: (config.Env ?? []).map(pair),
    user: config.User ?? "",
    workingDir: config.WorkingDir ?? "",
    ...(config.Entrypoint ? { entrypoint: config.Entrypoint } : {}),
    ...(config.Cmd ? { cmd: config.Cmd } : {}),
    labels: Object.entries(config.Labels ?? {}).sort(([a], [b]) => compareCodePoints(a, b)),
  };
}

/** The digest the registry's `ref` points at, or undefined when it has no such tag. */
export async function heldDigest(client: RegistryClient, ref: string): Promise<string | undefined> {
  try {
    return (await client.resolve(ref)).digest;
  } catch (e) {
    if (e instanceof RegistryError && e.code === registryCodes.NOT_FOUND) return undefined;
    throw e;
  }
}
