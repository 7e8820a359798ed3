/**
 * FileSend's receiving side: the daemon streams an exported tarball (`oci`, `docker`) as
 * BytesMessages and half-closes. The bytes go to a temporary file beside the destination, renamed
 * into place only when the stream ends well: a failed or cancelled build leaves nothing behind.
 */
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import grpc from "@grpc/grpc-js";
import { fail } from "./rpc.js";
import type { BytesMessage } from "./proto.js";

export async function receiveFile(call: grpc.ServerDuplexStream<BytesMessage, BytesMessage>, dest: string): Promise<void> {
  await mkdir(path.dirname(dest), { recursive: true });
  const partial = `${dest}.${process.pid}.partial`;
  const out = createWriteStream(partial);
  try {
    await new Promise<void>((resolve, reject) => {
      out.on("error", reject);
      call.on("error", reject);
      call.on("close", () => reject(new Error("the daemon closed the FileSend call before the end")));
      call.on("data", (message: BytesMessage) => {
        if (!out.write(message.data)) {
          call.pause();
          out.once("drain", () => call.resume());
        }
      });
      call.on("end", () => out.end(resolve));
    });
    await rename(partial, dest);
    call.end();
  } catch (e) {
    out.destroy();
    await rm(partial, { force: true });
    fail(call, grpc.status.UNKNOWN, `writing ${dest}: ${e instanceof Error ? e.message : String(e)}`);
    throw e;
  }
}
