/**
 * Building one image on BuildKit with the native client (@dockwright/buildkit), no buildctl: the
 * image's llb.pb with its local sources and image-config.json, or a user Dockerfile through the
 * Dockerfile frontend with the session serving its context and its folder. Progress goes to
 * standard error, one line per step.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { BuildkitError, connect, progressPrinter, type BuildRequest, type Export, type TlsOptions } from "@dockwright/buildkit";
import { frontendAttributes } from "@dockwright/emit-llb";
import { printableLines } from "../args.js";
import { exitCodes } from "../io.js";
import type { Builder, BuilderOptions, BuildJob } from "./builder.js";
import { ToolFailed } from "./spawn.js";

/** buildctl's TLS flags (`--tlscacert --tlscert --tlskey --tlsservername`) as the client's options; none given: no TLS. */
export function tlsFlags(flags: Partial<Record<"tlscacert" | "tlscert" | "tlskey" | "tlsservername", string>>, cwd: string): TlsOptions | undefined {
  const { tlscacert, tlscert, tlskey, tlsservername } = flags;
  if ([tlscacert, tlscert, tlskey, tlsservername].every((flag) => flag === undefined)) return undefined;
  const file = (flag: string | undefined) => (flag === undefined ? undefined : path.resolve(cwd, flag));
  return { ca: file(tlscacert), cert: file(tlscert), key: file(tlskey), serverName: tlsservername };
}

/**
 * The native builder: no buildctl, the session served by @dockwright/buildkit, registry
 * credentials from Docker's rules answered to the daemon's auth requests.
 */
export function buildkitBuilder(options: BuilderOptions): Builder {
  return {
    name: "buildkit",
    backend: "llb",
    unavailable: async () => undefined,
    async build(job) {
      let client;
      try {
        client = await connect(options.addr, { env: options.env, credentials: (host) => options.registry.credentials(host), ...(options.tls ? { tls: options.tls } : {}) });
        const { exporterResponse } = await client.solve(await request(options, job), { onEvent: progressPrinter(job.log), signal: job.signal });
        if (!job.push) return {};
        const digest = exporterResponse["containerimage.digest"];
        if (digest === undefined) throw new ToolFailed(`buildkitd pushed ${job.image.tag} but named no digest.`, exitCodes.buildFailed);
        return { digest };
      } catch (e) {
        if (!(e instanceof BuildkitError)) throw e;
        job.log(`dockwright: ${printableLines(e.message)}\n`);
        throw new ToolFailed(`buildkit failed to build ${job.image.tag}; its output is above.`, exitCodes.buildFailed);
      } finally {
        client?.close();
      }
    },
  };
}

async function request(options: BuilderOptions, { image, folder, context, base, push }: BuildJob): Promise<BuildRequest> {
  // A parent of another image goes to its registry even with --oci: BuildKit pulls parents from there.
  const output: Export = options.oci !== undefined && !push
    ? { type: "oci", dest: path.join(options.oci, `${image.key}.tar`), name: image.tag }
    : { type: "image", name: image.tag, ...(push ? { push: true } : {}) };
  const secrets = Object.fromEntries(image.secrets.map(({ id, source }) =>
    [id, "env" in source ? { env: source.env } : { file: path.resolve(base, source.file) }]));
  // The daemon keeps the last copy of each local source per shared key: one per project and image.
  const sharedKey = createHash("sha256").update(`${base}\0${image.key}`).digest("hex").slice(0, 32);
  if (image.parent.kind === "dockerfile") {
    const dockerfile = path.dirname(path.resolve(base, image.parent.path));
    return { frontend: "dockerfile.v0", frontendAttrs: frontendAttributes(image, image.parent), locals: { context, dockerfile }, exports: [output], secrets, sharedKey };
  }
  return {
    definition: await readFile(path.join(folder, "llb.pb")),
    imageConfig: await readFile(path.join(folder, "image-config.json"), "utf8"),
    locals: { context, generated: folder },
    exports: [output],
    secrets,
    sharedKey,
  };
}
