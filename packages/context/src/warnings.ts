/** Warnings about a build context: its size, and files that look like secrets. */
import { codes, warning } from "@dockwright/core/diagnostics";
import type { ContextEntry, Diagnostic } from "@dockwright/core";

const bigContext = 50 * 1024 * 1024; // the reference system warns from 50 MiB on
const largestShown = 5;

/** Files that usually hold credentials: a file looks like `holds` when its name matches `name` and `also` (if any) holds. */
type SecretRule = { name: RegExp; also?: (path: string, name: string) => boolean; holds: string };

const secretRules: SecretRule[] = [
  { name: /^\.env(\.[^]*)?$/, also: (_, name) => !/\.(example|sample|template|dist)$/.test(name), holds: "environment variables, often secrets" },
  { name: /^id_(rsa|dsa|ecdsa|ed25519)(_sk)?$/, holds: "an SSH private key" },
  { name: /\.(pem|key|p12|pfx)$/i, holds: "a private key or certificate" },
  { name: /^credentials$/, also: (path) => /(^|\/)\.aws\/credentials$/.test(path), holds: "AWS credentials" },
  {
    // gcloud's own files, and service account keys as Google names them (<project>-<12 hex>.json)
    name: /\.json$/,
    also: (path, name) => name === "application_default_credentials.json" || /(^|\/)gcloud\/.*\.json$/.test(path) || /^[a-z][a-z0-9-]{4,28}[a-z0-9]-[0-9a-f]{12}\.json$/.test(name),
    holds: "a Google Cloud credential",
  },
  { name: /^config\.json$/, also: (path) => /(^|\/)\.docker\/config\.json$/.test(path), holds: "container registry credentials" },
  { name: /^config$/, also: (path) => /(^|\/)\.kube\/config$/.test(path), holds: "Kubernetes credentials" },
  { name: /^[._]netrc$/, holds: "login credentials" },
  { name: /^\.pypirc$/, holds: "package index credentials" },
];

/** Any rule's name pattern (case aside): most names match none, and skip the rules. */
const mayHoldSecret = new RegExp(secretRules.map((rule) => rule.name.source).join("|"), "i");

export type WarningOptions = {
  /** The ignore file in effect; none means the whole tree is sent. */
  dockerignore?: string | undefined;
};

/**
 * CONTEXT_WARNING diagnostics for a walked or hashed context. A listing (no `totalSize`: nothing
 * was measured) gets the warnings that names alone give.
 */
export function contextWarnings(
  context: { entries: readonly Entry[]; totalSize?: number; special?: readonly string[] },
  options: WarningOptions = {},
): Diagnostic[] {
  const sizes = context.totalSize === undefined ? [] : sizeWarnings(context.entries, context.totalSize, options);
  return [...sizes, ...secretWarnings(context.entries, "context"), ...specialWarnings(context.special ?? [])];
}

/** A snapshot's entry, or a listed one, which has no size. */
type Entry = Pick<ContextEntry, "path" | "type"> & { size?: number };

function sizeWarnings(entries: readonly Entry[], totalSize: number, options: WarningOptions): Diagnostic[] {
  if (totalSize <= bigContext) return [];
  const largest = entries
    .filter((e) => e.type === "file")
    .sort((a, b) => (b.size ?? 0) - (a.size ?? 0) || (a.path < b.path ? -1 : 1))
    .slice(0, largestShown)
    .map((e) => `${e.path} (${formatBytes(e.size ?? 0)})`);
  const found = [
    warning(codes.CONTEXT_WARNING, "", `the build context is ${formatBytes(totalSize)}; its largest files: ${largest.join(", ")}. Exclude what the image does not need in .dockerignore.`),
  ];
  if (options.dockerignore === undefined) {
    found.unshift(
      warning(codes.CONTEXT_WARNING, ".dockerignore",
        `the build context is ${formatBytes(totalSize)} and there is no .dockerignore, so everything under the source root is sent to the builder. ` +
          "Add one that leaves out .git, virtual environments, data and caches."),
    );
  }
  return found;
}

/** Where files that look like secrets end up, and how to leave them out. */
const exposures = {
  context: "is sent to the builder, where a COPY can bake it into an image layer. Exclude it in .dockerignore; pass secrets to builds as secret mounts.",
  archive: "is packed into the code archive for the artifact store, where whoever reads the store or runs the pipeline can read it. Add it to .gitignore.",
};

/** A warning for each file of a build context (or a code archive) that looks like it holds a secret. */
export function secretWarnings(entries: readonly Entry[], where: keyof typeof exposures): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const entry of entries) {
    if (entry.type !== "file") continue; // a link sends its target's name, not its contents
    const name = entry.path.slice(entry.path.lastIndexOf("/") + 1);
    if (!mayHoldSecret.test(name)) continue;
    const rule = secretRules.find((r) => r.name.test(name) && (r.also?.(entry.path, name) ?? true));
    if (rule) found.push(warning(codes.CONTEXT_WARNING, entry.path, `${entry.path} looks like ${rule.holds} and ${exposures[where]}`));
  }
  return found;
}

function specialWarnings(special: readonly string[]): Diagnostic[] {
  return special.map((path) =>
    warning(codes.CONTEXT_WARNING, path, `${path} is a socket, FIFO or device; Docker would send it, but a Dockwright context holds files and links only, so it is left out.`),
  );
}

/** Bytes for people: `812 B`, `4.0 KiB`, `1.5 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
