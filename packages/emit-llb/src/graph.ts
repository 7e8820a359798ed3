/**
 * An LLB graph under construction: ops in the order BuildKit's Go client marshals them (inputs
 * first, each op once), with their metadata, closed by the terminal op into a Definition.
 */
import { digestOf, encode } from "./codec.js";
import type { Input, Op, OpMetadata } from "./schema.js";

export type Vertex = { op: Op; bytes: Uint8Array; digest: string; metadata: OpMetadata };

export class Graph {
  readonly vertices: Vertex[] = [];
  private readonly digests = new Set<string>();

  /** Adds an op (once per digest) and returns the input that refers to its first output. */
  add(op: Op, metadata: OpMetadata): Input {
    const bytes = encode("Op", op);
    const digest = digestOf(bytes);
    if (!this.digests.has(digest)) {
      this.digests.add(digest);
      this.vertices.push({ op, bytes, digest, metadata });
    }
    return { digest, index: 0 };
  }

  /**
   * Appends the terminal op that names the result and returns the marshalled Definition. Like the
   * Go client, it gives the terminal op the caps the whole graph needs and writes an empty source
   * map (`Source: {}`).
   */
  close(result: Input): Uint8Array {
    const caps: Record<string, boolean> = { constraints: true, platform: true };
    if (this.vertices.some((v) => v.metadata.description)) caps["meta.description"] = true;
    this.add({ inputs: [result] }, { caps });
    return encode("Definition", {
      def: this.vertices.map((v) => v.bytes),
      metadata: Object.fromEntries(this.vertices.map((v) => [v.digest, v.metadata])),
      Source: {},
    });
  }
}
