/**
 * Buildah: each image's build.sh, run with the chosen buildah first on PATH, against the storage
 * and isolation its environment chooses (STORAGE_DRIVER, BUILDAH_ISOLATION, CONTAINERS_STORAGE_CONF).
 * A pinned parent is pulled first, with the registry's credentials and TLS rules, so the script
 * starts from exactly that image; pushes use the same rules.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseImageRef, parentReference, shellQuote } from "@dockwright/core";
import type { Builder, BuilderOptions, ImageStore, ToolContext } from "./builder.js";
import { mustRun, notInstalled, runTool } from "./spawn.js";

export function buildahBuilder(options: BuilderOptions): Builder {
  const { bin, env, cwd, registry } = options;
  const run = (args: string[], context: ToolContext, what: string) => mustRun(bin, args, { env, cwd, ...context }, what);

  /**
   * The flags that reach `ref`'s registry as our registry client does: `--tls-verify=false` for a
   * host marked insecure, and an auth file (mode 0600, in a private temporary folder removed
   * after) with the credentials Docker's rules give, which buildah alone would not all read.
   */
  async function withRegistry<T>(ref: string, use: (flags: string[]) => Promise<T>): Promise<T> {
    const parsed = parseImageRef(ref);
    const host = parsed.ok ? parsed.ref.registry : "";
    const flags = registry.insecure(host) ? ["--tls-verify=false"] : [];
    const credentials = host === "" ? undefined : await registry.credentials(host);
    if (!credentials) return use(flags);
    const dir = await mkdtemp(path.join(tmpdir(), "dockwright-auth-"));
    try {
      const file = path.join(dir, "auth.json");
      const auth = Buffer.from(`${credentials.username}:${credentials.secret}`).toString("base64");
      await writeFile(file, JSON.stringify({ auths: { [host]: { auth } } }), { mode: 0o600 });
      return await use([...flags, "--authfile", file]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  const store: ImageStore = {
    async has(ref, context) {
      return (await runTool(bin, ["inspect", "--type", "image", ref], { env, cwd, signal: context.signal, log: () => {} })).code === 0;
    },
    async tag(from, to, context) {
      await run(["tag", from, to], context, `tag ${from} as ${to}`);
    },
    push: (ref, context) => withRegistry(ref, async (flags) => {
      const dir = await mkdtemp(path.join(tmpdir(), "dockwright-push-"));
      try {
        const digestFile = path.join(dir, "digest");
        await run(["push", "--quiet", ...flags, "--digestfile", digestFile, ref, `docker://${ref}`], context, `push ${ref}`);
        return (await readFile(digestFile, "utf8")).trim();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }),
    pull: (ref, context) => withRegistry(ref, async (flags) => {
      await run(["pull", "--quiet", ...flags, ref], context, `pull ${ref}`);
    }),
  };

  return {
    name: "buildah",
    backend: "buildah",
    unavailable: () => notInstalled("buildah", bin, env, "Debian: apt-get install buildah"),
    store,
    async build(job) {
      const { image, folder, context, staging, base } = job;
      if (image.parent.kind !== "dockerfile" && image.parent.resolved) await store.pull(parentReference(image.parent), job);
      const scriptEnv = { ...env };
      if (bin !== "buildah") {
        // build.sh calls `buildah`: the chosen command goes first on PATH under that name.
        const shim = path.join(staging, "bin");
        await mkdir(shim, { recursive: true });
        await writeFile(path.join(shim, "buildah"), `#!/bin/sh\nexec ${shellQuote(bin)} "$@"\n`, { mode: 0o755 });
        scriptEnv["PATH"] = `${shim}${path.delimiter}${env["PATH"] ?? ""}`;
      }
      // From the configuration's folder, where the script finds the files of build secrets.
      await mustRun("bash", [path.join(folder, "build.sh"), ...(options.noCache ? ["--no-cache"] : []), context, image.tag], { env: scriptEnv, cwd: base, log: job.log, signal: job.signal }, `build ${image.tag}`, path.basename(bin));
      return job.push ? { digest: await store.push(image.tag, job) } : {};
    },
  };
}
