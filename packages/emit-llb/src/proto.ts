/**
 * The protobuf wire format, just what LLB needs: varints, length-delimited fields, and a reader
 * that says where a malformed message breaks.
 */

export const wire = { varint: 0, fixed64: 1, delimited: 2, fixed32: 5 } as const;

const utf8 = new TextEncoder();
// A leading U+FEFF is part of the string: the default decoder would drop it as a byte order mark.
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });

export class Writer {
  private readonly chunks: number[] = [];

  /** Any integer; negatives become 10-byte two's-complement varints, as Go writes int32 and int64. */
  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.chunks.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.chunks.push(Number(v));
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType);
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, wire.delimited).varint(data.length);
    for (const byte of data) this.chunks.push(byte);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, utf8.encode(text));
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** Thrown on bytes that are not a well-formed message; `offset` is where reading failed. */
export class WireError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = "WireError";
    this.offset = offset;
  }
}

export class Reader {
  private pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    /** Offset of `buf` in the outermost message, for error messages. */
    private readonly base = 0,
  ) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  get offset(): number {
    return this.base + this.pos;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.done) throw new WireError("truncated varint", this.offset);
      const byte = this.buf[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asUintN(64, result);
    }
    throw new WireError("varint longer than 10 bytes", this.offset);
  }

  /** A length-delimited payload, with a reader positioned at its start. */
  delimited(): Reader {
    const length = this.varint();
    const start = this.pos;
    if (length > BigInt(this.buf.length - start)) throw new WireError("length runs past the end", this.offset);
    this.pos += Number(length);
    return new Reader(this.buf.subarray(start, this.pos), this.base + start);
  }

  bytes(): Uint8Array {
    return this.remaining(this.delimited());
  }

  string(): string {
    return utf8Decoder.decode(this.bytes());
  }

  skip(wireType: number): void {
    const at = this.offset;
    if (wireType === wire.varint) this.varint();
    else if (wireType === wire.delimited) this.delimited();
    else if (wireType === wire.fixed64 || wireType === wire.fixed32) {
      const size = wireType === wire.fixed64 ? 8 : 4;
      if (this.pos + size > this.buf.length) throw new WireError("truncated fixed-size field", at);
      this.pos += size;
    } else throw new WireError(`unsupported wire type ${wireType}`, at);
  }

  private remaining(reader: Reader): Uint8Array {
    return reader.buf.subarray(reader.pos);
  }
}
