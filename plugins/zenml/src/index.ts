/**
 * The ZenML preset: the selected release's rules, its default parent image, its integration
 * catalog and its stack flavors. Other plugins can add or replace integrations and flavors by
 * tapping the same catalog hooks after it.
 */
import type { Compiler, Plugin } from "@dockwright/core";
import { findRelease, flavorsOf, integrationsOf, isLocalOrchestrator, newestRelease, releases } from "./catalog.js";
import { rulesFor } from "./releases.js";

export { findRelease, newestRelease, releases, type Release } from "./catalog.js";
export { rulesFor } from "./releases.js";

export type ZenmlOptions = {
  /** The ZenML release whose images to build: `0.70`, `0.82.1`, ... (default: the newest supported). */
  version?: string;
  /**
   * How the client reaches ZenML's store: `rest` (a server, the default) or `sql` (a database
   * directly, so from 0.90 local containerized orchestrators' images get `zenml[local]`).
   */
  store?: "rest" | "sql";
};

export function zenml(options: ZenmlOptions = {}): Plugin {
  const requested = options.version ?? newestRelease;
  const release = findRelease(requested);
  if (!release) {
    // A programming error of whoever assembles the compiler; the CLI checks the flag first.
    throw new Error(`@dockwright/plugin-zenml: ${JSON.stringify(requested)} is not a supported ZenML release; supported are ${supportedReleases()}.`);
  }
  const { rules, preset } = rulesFor(release.version);
  return {
    name: "ZenmlPlugin",
    core: "^0.1.0",
    apply(compiler: Compiler): void {
      compiler.hooks.rules.tap("ZenmlPlugin", () => rules);
      compiler.hooks.parentImage.tap("ZenmlPlugin", (ref, { pythonVersion }) => ref ?? `zenmldocker/zenml:${release.version}-py${pythonVersion}`);
      compiler.hooks.integrations.tap("ZenmlPlugin", (catalog, { pythonVersion }) => {
        for (const [name, spec] of integrationsOf(release.tree, pythonVersion)) if (!catalog.has(name)) catalog.set(name, spec);
        return catalog;
      });
      compiler.hooks.flavors.tap("ZenmlPlugin", (catalog) => {
        for (const [type, flavors] of flavorsOf(release.tree)) {
          const known = catalog.get(type) ?? new Map();
          for (const [flavor, info] of flavors) {
            // Connected to a database directly, a local containerized orchestrator's image needs ZenML's `local` extra (0.90+).
            const sqlExtra = preset.sqlStoreExtra && type === "orchestrator" && options.store === "sql" && info.containerized && isLocalOrchestrator(release.tree, flavor);
            if (!known.has(flavor)) known.set(flavor, sqlExtra ? { ...info, requirements: [`zenml[local]==${release.version}`] } : info);
          }
          catalog.set(type, known);
        }
        return catalog;
      });
    },
  };
}

/** `0.58 (0.58.0, 0.58.1, 0.58.2), 0.60, ...`: the supported minor releases. */
export function supportedReleases(): string {
  const minors = new Map<string, string[]>();
  for (const { version } of releases) {
    const minor = version.split(".").slice(0, 2).join(".");
    minors.set(minor, [...(minors.get(minor) ?? []), version]);
  }
  return [...minors].map(([minor, versions]) => (versions.length > 1 ? `${minor} (${versions.join(", ")})` : minor)).join(", ");
}
