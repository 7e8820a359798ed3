/**
 * Tiny LLB definitions for the session tests, made with the generated messages: the result of a
 * `local://NAME` source alone, which the `tar` exporter then sends back as it arrived.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { createHash } from "node:crypto";
import { DefinitionSchema, OpSchema } from "../../../packages/buildkit/src/gen/github.com/moby/buildkit/solver/pb/ops_pb.ts";

export type LocalOptions = { excludes?: string[]; includes?: string[]; unique?: string };

/** A definition whose result is the local directory `name` (attributes as the Go client writes them). */
export function localDefinition(name: string, options: LocalOptions = {}): Uint8Array {
  const attrs: Record<string, string> = { "local.sharedkeyhint": name, "local.unique": options.unique ?? "dockwright-test" };
  if (options.excludes) attrs["local.excludepatterns"] = JSON.stringify(options.excludes);
  if (options.includes) attrs["local.includepattern"] = JSON.stringify(options.includes);
  const source = toBinary(OpSchema, create(OpSchema, { op: { case: "source", value: { identifier: `local://${name}`, attrs } }, constraints: {} }));
  const digest = `sha256:${createHash("sha256").update(source).digest("hex")}`;
  const terminal = toBinary(OpSchema, create(OpSchema, { inputs: [{ digest, index: 0n }] }));
  return toBinary(DefinitionSchema, create(DefinitionSchema, { def: [source, terminal] }));
}
