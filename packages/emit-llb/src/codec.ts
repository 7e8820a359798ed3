/**
 * Encoding, decoding and Go-JSON printing of `pb` messages, all driven by the table in schema.ts.
 *
 * Encoding follows what makes BuildKit's Go client produce the bytes it does: fields in number
 * order, proto3 defaults omitted (except a set oneof member, which is always written), map entries
 * sorted by key with both key and value written, negative numbers as 10-byte varints.
 */
import { sha256 } from "@dockwright/core";
import { Reader, WireError, Writer } from "./proto.js";
import { isMessage, messages, wireTypeOf, type Field, type Int } from "./schema.js";

/** A JSON value; int64 values that do not fit a double stay bigints. */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Loose view of a message object, for the table-driven walkers. */
type Message = Record<string, unknown>;

function fieldsOf(type: string): readonly Field[] {
  const fields = messages[type];
  if (!fields) throw new Error(`unknown message type ${type}`);
  return fields;
}

/** `sha256:<hex>` of bytes: the digest LLB uses to name an op. */
export function digestOf(bytes: Uint8Array): string {
  return sha256(bytes);
}

const utf8 = new TextEncoder();

/** Go orders strings by their UTF-8 bytes; JavaScript's `<` compares UTF-16 units. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(utf8.encode(a), utf8.encode(b));
}

// ---------------------------------------------------------------------------------------------
// Encoding

export function encode(type: string, value: object): Uint8Array {
  const w = new Writer();
  writeMessage(w, type, value as Message);
  return w.finish();
}

function writeMessage(w: Writer, type: string, message: Message): void {
  for (const field of fieldsOf(type)) {
    const value = message[field.name];
    if (value === undefined) continue;
    if (field.map) {
      const entries = value as Record<string, unknown>;
      for (const key of Object.keys(entries).sort(compareUtf8)) {
        const entry = new Writer();
        entry.string(1, key);
        writeValue(entry, 2, field.type, entries[key]);
        w.bytes(field.no, entry.finish());
      }
    } else if (field.repeated) {
      for (const item of value as unknown[]) writeValue(w, field.no, field.type, item);
    } else if (field.oneof || isMessage(field.type) || !isDefault(value)) {
      writeValue(w, field.no, field.type, value);
    }
  }
}

function writeValue(w: Writer, no: number, type: string, value: unknown): void {
  switch (type) {
    case "string":
      w.string(no, value as string);
      return;
    case "bytes":
      w.bytes(no, value as Uint8Array);
      return;
    case "bool":
      w.tag(no, 0).varint(value ? 1 : 0);
      return;
    case "int64":
    case "int32":
    case "uint32":
    case "enum":
      w.tag(no, 0).varint(value as Int);
      return;
    default:
      w.bytes(no, encode(type, value as object));
  }
}

function isDefault(value: unknown): boolean {
  return value === "" || value === 0 || value === 0n || value === false || (value instanceof Uint8Array && value.length === 0);
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Decodes one message. Unknown fields are skipped, as Go does; malformed bytes throw WireError. */
export function decode(type: string, bytes: Uint8Array): Message {
  return readMessage(new Reader(bytes), type);
}

function readMessage(r: Reader, type: string): Message {
  const fields = fieldsOf(type);
  const out: Message = {};
  while (!r.done) {
    const at = r.offset;
    const tag = r.varint();
    const no = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    const field = fields.find((candidate) => candidate.no === no);
    if (!field) {
      r.skip(wireType);
      continue;
    }
    const expected = field.map ? 2 : wireTypeOf(field.type);
    if (wireType !== expected) throw new WireError(`field ${no} of ${type} has wire type ${wireType}, expected ${expected}`, at);
    if (field.map) {
      const entry = r.delimited();
      let key = "";
      let value = defaultOf(field.type);
      while (!entry.done) {
        const entryTag = entry.varint();
        const entryWire = Number(entryTag & 7n);
        if (entryTag === 0x0an) key = entry.string();
        else if (entryTag >> 3n === 2n && entryWire === wireTypeOf(field.type)) value = readValue(entry, field.type);
        else entry.skip(entryWire);
      }
      ((out[field.name] ??= {}) as Message)[key] = value;
    } else if (field.repeated) {
      ((out[field.name] ??= []) as unknown[]).push(readValue(r, field.type));
    } else {
      // A oneof holds one member: the last one read wins, as in Go.
      if (field.oneof) for (const other of fields) if (other.oneof === field.oneof) delete out[other.name];
      out[field.name] = readValue(r, field.type);
    }
  }
  return out;
}

function readValue(r: Reader, type: string): unknown {
  switch (type) {
    case "string":
      return r.string();
    case "bytes":
      return r.bytes();
    case "bool":
      return r.varint() !== 0n;
    case "int64": {
      const value = BigInt.asIntN(64, r.varint());
      return Number.isSafeInteger(Number(value)) ? Number(value) : value;
    }
    case "int32":
    case "enum":
      return Number(BigInt.asIntN(32, r.varint()));
    case "uint32":
      return Number(BigInt.asUintN(32, r.varint()));
    default:
      return readMessage(r.delimited(), type);
  }
}

function defaultOf(type: string): unknown {
  const defaults: Record<string, unknown> = { string: "", bytes: new Uint8Array(), bool: false, int64: 0, int32: 0, uint32: 0, enum: 0 };
  return type in defaults ? defaults[type] : {};
}

// ---------------------------------------------------------------------------------------------
// Go JSON

/**
 * A message as Go's encoding/json prints BuildKit's generated (gogo, v0.11) structs: JSON names
 * from the proto names, `omitempty` on every field except those marked `always`, a oneof as a
 * capitalized wrapper (`"Op": {"exec": ...}`, null when unset), bytes as base64, map keys sorted.
 */
export function toGoJson(type: string, message: object): JsonObject {
  const m = message as Message;
  const out: JsonObject = {};
  for (const field of fieldsOf(type)) {
    if (field.oneof) {
      const group = field.oneof[0]!.toUpperCase() + field.oneof.slice(1);
      if (group in out) continue;
      const set = fieldsOf(type).find((member) => member.oneof === field.oneof && m[member.name] !== undefined);
      const value = set && m[set.name];
      out[group] = !set ? null : !isMessage(set.type) && isDefault(value) ? {} : { [set.name]: jsonValue(set.type, value) };
      continue;
    }
    const value = m[field.name];
    if (field.map) {
      const entries = (value ?? {}) as Record<string, unknown>;
      const keys = Object.keys(entries).sort(compareUtf8);
      if (keys.length > 0) out[field.name] = Object.fromEntries(keys.map((k) => [k, jsonValue(field.type, entries[k])]));
      else if (field.always) out[field.name] = null;
    } else if (field.repeated) {
      const items = (value ?? []) as unknown[];
      if (items.length > 0) out[field.name] = items.map((item) => jsonValue(field.type, item));
      else if (field.always) out[field.name] = null;
    } else if (isMessage(field.type)) {
      if (value !== undefined || field.always) out[field.name] = toGoJson(field.type, (value ?? {}) as object);
    } else if (field.always || (value !== undefined && !isDefault(value))) {
      out[field.name] = jsonValue(field.type, value ?? defaultOf(field.type));
    }
  }
  return out;
}

function jsonValue(type: string, value: unknown): JsonValue {
  if (isMessage(type)) return toGoJson(type, value as object);
  if (type === "bytes") return Buffer.from(value as Uint8Array).toString("base64");
  return value as JsonValue;
}

/** JSON text as `JSON.stringify(value, null, 2)` writes it, plus bigints, and a final newline. */
export function formatJson(value: JsonValue): string {
  return `${format(value, "")}\n`;
}

function format(value: JsonValue, indent: string): string {
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((item) => inner + format(item, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([key, item]) => `${inner}${JSON.stringify(key)}: ${format(item, inner)}`).join(",\n")}\n${indent}}`;
}
