/**
 * The protobuf wire format, just what LLB needs: varints, length-delimited fields, and a reader
 * that says where a malformed message breaks.
 */

export const wire = { varint: 0, fixed64: 1, delimited: 2, fixed32: 5 } as const;

const utf8 = new TextEncoder();
// A leading U+FEFF is part of the string: the default decoder would drop it as a byte order mark.
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** The buffer writers start with; kept between messages (encoding is synchronous) and grown as needed. */
let scratch = new Uint8Array(4096);

/**
 * Writes one message into a single growing buffer. A nested message is written in place, its
 * length patched in afterwards (`begin`, `end`), so no part is encoded twice or copied from a
 * temporary array; ASCII strings, nearly all of LLB, are copied byte by byte without an encoder.
 * One writer at a time: they share a scratch buffer until `finish` copies the message out.
 */
export class Writer {
  private buf = scratch;
  private pos = 0;

  /** Any integer; negatives become 10-byte two's-complement varints, as Go writes int32 and int64. */
  varint(value: number | bigint): this {
    if (typeof value === "number" && value >= 0 && value < 0x80) {
      // Tags, lengths and flags: nearly every varint is one byte.
      this.reserve(1);
      this.buf[this.pos++] = value;
      return this;
    }
    let lo: number;
    let hi: number;
    if (typeof value === "number" && Number.isSafeInteger(value)) {
      lo = value >>> 0; // the low 32 bits of the two's complement, for negatives too
      hi = Math.floor(value / 0x1_0000_0000) >>> 0;
    } else {
      const v = BigInt.asUintN(64, BigInt(value));
      lo = Number(v & 0xffff_ffffn);
      hi = Number(v >> 32n);
    }
    this.reserve(10);
    const buf = this.buf;
    let pos = this.pos;
    while (hi !== 0) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType);
  }

  bytes(field: number, data: Uint8Array): this {
    return this.tag(field, wire.delimited).varint(data.length).raw(data);
  }

  string(field: number, text: string): this {
    this.tag(field, wire.delimited);
    const n = text.length;
    if (n >= 32) return this.encoded(text);
    // A short string is copied here while it is ASCII, whose length in bytes is its length.
    const before = this.pos;
    this.varint(n).reserve(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      const unit = text.charCodeAt(i);
      if (unit > 0x7f) {
        this.pos = before;
        return this.encoded(text);
      }
      buf[pos++] = unit;
    }
    this.pos = pos;
    return this;
  }

  /** A string's length and UTF-8 bytes, encoded straight into the buffer after room for the length. */
  private encoded(text: string): this {
    const guess = varintWidth(text.length); // at least as many bytes as units, so never too wide
    this.reserve(guess + 3 * text.length);
    const { written } = utf8.encodeInto(text, this.buf.subarray(this.pos + guess));
    const width = varintWidth(written);
    if (width > guess) this.buf.copyWithin(this.pos + width, this.pos + guess, this.pos + guess + written);
    this.varint(written);
    this.pos += written;
    return this;
  }

  /** Starts a length-delimited field written in place; `end` with what it returns fills in the length. */
  begin(field: number): number {
    this.tag(field, wire.delimited).reserve(1);
    return ++this.pos; // one byte for the length, enough below 128 bytes; the contents move up if not
  }

  end(start: number): this {
    const length = this.pos - start;
    const width = varintWidth(length);
    if (width > 1) {
      this.reserve(width - 1);
      this.buf.copyWithin(start + width - 1, start, this.pos);
      this.pos += width - 1;
    }
    const end = this.pos;
    this.pos = start - 1;
    this.varint(length);
    this.pos = end;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  private raw(data: Uint8Array): this {
    this.reserve(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  /** Makes room for `n` more bytes, doubling the buffer. */
  private reserve(n: number): this {
    if (this.pos + n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.pos + n) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.buf.subarray(0, this.pos));
      this.buf = grown;
      scratch = grown;
    }
    return this;
  }
}

/** Bytes of a varint holding a non-negative length. */
function varintWidth(n: number): number {
  let width = 1;
  while (n > 0x7f) {
    n = Math.floor(n / 128);
    width++;
  }
  return width;
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
