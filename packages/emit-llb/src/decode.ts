/**
 * Reading `llb.pb` back: a marshalled Definition to the dump-llb JSON, for tests and
 * `dockwright inspect-llb`.
 */
import { decode, digestOf } from "./codec.js";
import { printDump, type DumpLlbJson } from "./emit.js";
import { WireError } from "./proto.js";
import type { Definition, Op } from "./schema.js";

/** Bytes that are not an LLB definition. The message says what is wrong and where. */
export class LlbDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LlbDecodeError";
  }
}

/** The ops of a marshalled `pb.Definition` as `buildctl debug dump-llb` prints them (llb.json's text), in `def` order. */
export function printDefinition(bytes: Uint8Array): string {
  const definition = attempt("the definition", () => decode("Definition", bytes) as Definition);
  const ops = definition.def ?? [];
  if (ops.length === 0) throw new LlbDecodeError("the definition holds no operations");
  return printDump(ops.map((opBytes, i) => {
    const op = attempt(`operation ${i + 1} of ${ops.length}`, () => decode("Op", opBytes) as Op);
    const digest = digestOf(opBytes);
    return { op, digest, metadata: definition.metadata?.[digest] };
  }));
}

/** The same ops as data. An int64 beyond 2^53 (only a foreign definition holds one) is rounded here, not in the text. */
export function decodeDefinition(bytes: Uint8Array): DumpLlbJson {
  return JSON.parse(printDefinition(bytes)) as DumpLlbJson;
}

function attempt<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof WireError) throw new LlbDecodeError(`${what} is not valid protobuf: ${e.message}`);
    throw e;
  }
}
