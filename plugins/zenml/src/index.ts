/**
 * The ZenML preset: the default parent image, the integration catalog and the stack flavors.
 * Other plugins can add or override an integration by tapping `integration.for(name)` before it.
 */
import type { Compiler, Plugin } from "@dockwright/core";
import { flavors, integrations, resolveIntegration } from "./catalog.js";

export { integrations, flavors } from "./catalog.js";

export type ZenmlOptions = {
  /** ZenML version of the default parent image (`zenmldocker/zenml:<version>-py<X.Y>`). */
  version?: string;
};

export const defaultZenmlVersion = "0.58.0";

export function zenml(options: ZenmlOptions = {}): Plugin {
  const version = options.version ?? defaultZenmlVersion;
  if (!/^[0-9]+\.[0-9]+\.[0-9]+([a-z0-9.+-]*)$/.test(version)) {
    throw new Error(`@dockwright/plugin-zenml: ${JSON.stringify(version)} is not a ZenML version such as 0.58.0`);
  }
  return {
    name: "ZenmlPlugin",
    core: "^0.1.0",
    apply(compiler: Compiler): void {
      compiler.hooks.parentImage.tap("ZenmlPlugin", (ref, { pythonVersion }) => ref ?? `zenmldocker/zenml:${version}-py${pythonVersion}`);
      for (const [name, entry] of Object.entries(integrations)) {
        compiler.hooks.integration.for(name).tap("ZenmlPlugin", (query) => resolveIntegration(entry, query));
      }
      compiler.hooks.stackComponent.tap("ZenmlPlugin", ({ type, flavor }) => flavors[type]?.[flavor]);
    },
  };
}
