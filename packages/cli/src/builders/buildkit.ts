/**
 * Building one image on BuildKit with the native client (@dockwright/buildkit), no buildctl: the
 * image's llb.pb with its local sources and image-config.json, or a user Dockerfile through the
 * Dockerfile frontend with the session serving its context and its folder. Progress goes to
 * standard error, one line per step.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { ImagePlan } from "@dockwright/core";
import { BuildkitError, connect, progressPrinter, type BuildRequest, type Export, type TlsOptions } from "@dockwright/buildkit";
import { frontendArgs } from "@dockwright/emit-llb";
import { exitCodes, type Io } from "../io.js";

export type BuildkitTarget = {
  /** The daemon's address; default: $BUILDKIT_HOST, else the root socket. */
  addr?: string;
  tls?: TlsOptions;
  /** Write OCI tarballs DIR/<image>.tar instead of images in BuildKit's store. */
  oci?: string;
};

/** buildctl's TLS flags (`--tlscacert --tlscert --tlskey --tlsservername`) as the client's options; none given: no TLS. */
export function tlsFlags(flags: Partial<Record<"tlscacert" | "tlscert" | "tlskey" | "tlsservername", string>>, cwd: string): TlsOptions | undefined {
  const { tlscacert, tlscert, tlskey, tlsservername } = flags;
  if ([tlscacert, tlscert, tlskey, tlsservername].every((flag) => flag === undefined)) return undefined;
  const file = (flag: string | undefined) => (flag === undefined ? undefined : path.resolve(cwd, flag));
  return { ca: file(tlscacert), cert: file(tlscert), key: file(tlskey), serverName: tlsservername };
}

/** Where one image's build finds its files; `base` is the configuration's folder, which the plan's paths are relative to. */
export type BuildkitPaths = { folder: string; context: string; base: string };

/** Builds `image`; returns the exit code, the reason already printed when it is not 0. */
export async function buildWithBuildkit(target: BuildkitTarget, image: ImagePlan, paths: BuildkitPaths, io: Io): Promise<number> {
  let client;
  try {
    client = await connect(target.addr, { env: io.env, ...(target.tls ? { tls: target.tls } : {}) });
    await client.solve(await request(target, image, paths), { onEvent: progressPrinter(io.stderr) });
    return exitCodes.ok;
  } catch (e) {
    if (!(e instanceof BuildkitError)) throw e;
    io.stderr(`dockwright: ${e.message}\n`);
    return exitCodes.buildFailed;
  } finally {
    client?.close();
  }
}

async function request(target: BuildkitTarget, image: ImagePlan, { folder, context, base }: BuildkitPaths): Promise<BuildRequest> {
  const output: Export = target.oci !== undefined
    ? { type: "oci", dest: path.join(target.oci, `${image.key}.tar`), name: image.tag }
    : { type: "image", name: image.tag };
  const secrets = Object.fromEntries(image.secrets.map(({ id, source }) =>
    [id, "env" in source ? { env: source.env } : { file: path.resolve(base, source.file) }]));
  // The daemon keeps the last copy of each local source per shared key: one per project and image.
  const sharedKey = createHash("sha256").update(`${base}\0${image.key}`).digest("hex").slice(0, 32);
  if (image.parent.kind === "dockerfile") {
    // The frontend's options, as `buildctl build --opt` would pass them.
    const dockerfile = path.dirname(path.resolve(base, image.parent.path));
    const args = frontendArgs(image, image.parent, { context, dockerfile }, "");
    const frontendAttrs = Object.fromEntries(args.flatMap((arg, i) => {
      if (args[i - 1] !== "--opt") return [];
      const eq = arg.indexOf("=");
      return [[arg.slice(0, eq), arg.slice(eq + 1)]];
    }));
    return { frontend: "dockerfile.v0", frontendAttrs, locals: { context, dockerfile }, exports: [output], secrets, sharedKey };
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
