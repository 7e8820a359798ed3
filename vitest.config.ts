import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests run against the TypeScript sources of every package; the CLI's end-to-end tests run the
// built `dist/` (the README's test command builds first).
const src = (dir: string) => fileURLToPath(new URL(`${dir}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      "@dockwright/core/diagnostics": fileURLToPath(new URL("packages/core/src/diagnostics.ts", import.meta.url)),
      "@dockwright/core/strings": fileURLToPath(new URL("packages/core/src/strings.ts", import.meta.url)),
      "@dockwright/core": src("packages/core"),
      "@dockwright/context": src("packages/context"),
      "@dockwright/emit-dockerfile": src("packages/emit-dockerfile"),
      "@dockwright/emit-buildah": src("packages/emit-buildah"),
      "@dockwright/emit-llb": src("packages/emit-llb"),
      "@dockwright/registry": src("packages/registry"),
      "@dockwright/buildkit": src("packages/buildkit"),
      "@dockwright/plugin-zenml": src("plugins/zenml"),
      "@dockwright/plugin-local-env": src("plugins/local-env"),
      "@dockwright/plugin-git": src("plugins/git"),
    },
  },
  test: {
    include: ["packages/*/src/**/*.test.ts", "plugins/*/src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    pool: "forks",
    globalSetup: ["test/support/global-setup.ts"],
  },
});
