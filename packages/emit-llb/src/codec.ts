/**
 * Encoding, decoding and Go-JSON printing of `pb` messages, all driven by the table in schema.ts.
 *
 * Encoding follows what makes BuildKit's Go client produce the bytes it does: fields in number
 * order, proto3 defaults omitted (except a set oneof member, which is always written), map entries
 * sorted by key with both key and value written, negative numbers as 10-byte varints.
 */
import { sha256 } from "@dockwright/core";
import { compareCodePoints } from "@dockwright/core/strings";
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

/** The keys of a map field in the order Go writes them. */
function sortedKeys(entries: Record<string, unknown>): string[] {
  const keys = Object.keys(entries);
  return keys.length < 2 ? keys : keys.sort(compareCodePoints);
}

// ---------------------------------------------------------------------------------------------
// Encoding

export function encode(type: string, value: object): Uint8Array {
  const w = new Writer();
  encoderOf(type)(w, value as Message);
  return w.finish();
}

/**
 * Encoders and JSON printers are generated from the table, once per message type, as protobuf.js
 * generates them: straight-line code that reads each field by its literal name (`m["args"]`). A
 * loop over the table reads every field of every message through one shared property access,
 * which V8 cannot specialize, at several times the cost. Only names from the table reach the
 * generated code, never a value.
 */
type Encoder = (w: Writer, message: Message) => void;

const encoders: Record<string, Encoder> = {};

function encoderOf(type: string): Encoder {
  return (encoders[type] ??= new Function("E", "encoderOf", "sortedKeys", encoderSource(type))(encoders, encoderOf, sortedKeys) as Encoder);
}

function encoderSource(type: string): string {
  const lines = ["return function (w, m) {", "let v;"];
  for (const field of fieldsOf(type)) {
    lines.push(`v = m[${JSON.stringify(field.name)}];`);
    const put = (value: string, no: number) => writeCode(field.type, no, value);
    if (field.map) {
      lines.push(`if (v !== undefined) for (const k of sortedKeys(v)) { const s = w.begin(${field.no}); w.string(1, k); ${put("v[k]", 2)} w.end(s); }`);
    } else if (field.repeated) {
      lines.push(`if (v !== undefined) for (const x of v) { ${put("x", field.no)} }`);
    } else {
      // A set oneof member and a present message are written even when empty; other defaults are not.
      const always = field.oneof !== undefined || isMessage(field.type);
      lines.push(`if (v !== undefined${always ? "" : ` && ${notDefault(field.type, "v")}`}) { ${put("v", field.no)} }`);
    }
  }
  lines.push("};");
  return lines.join("\n");
}

function writeCode(type: string, no: number, value: string): string {
  switch (type) {
    case "string":
      return `w.string(${no}, ${value});`;
    case "bytes":
      return `w.bytes(${no}, ${value});`;
    case "bool":
      return `w.tag(${no}, 0).varint(${value} ? 1 : 0);`;
    case "int64":
    case "int32":
    case "uint32":
    case "enum":
      return `w.tag(${no}, 0).varint(${value});`;
    default:
      return `{ const s = w.begin(${no}); (E[${JSON.stringify(type)}] ?? encoderOf(${JSON.stringify(type)}))(w, ${value}); w.end(s); }`;
  }
}

/** Generated code that is true when a scalar `value` is not its type's proto3 default. */
function notDefault(type: string, value: string): string {
  if (type === "string") return `${value} !== ""`;
  if (type === "bytes") return `${value}.length !== 0`;
  if (type === "bool") return `${value} !== false`;
  return `${value} !== 0 && ${value} !== 0n`;
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
 * A message as Go's encoding/json prints BuildKit's generated (gogo, v0.11) structs, laid out as
 * `JSON.stringify(value, null, 2)` lays it out when the message starts `depth` levels deep: JSON
 * names from the proto names, `omitempty` on every field except those marked `always`, a oneof as
 * a capitalized wrapper (`"Op": {"exec": ...}`, null when unset, `{}` for a zero scalar member),
 * bytes as base64, map keys in Go's order, int64 values beyond 2^53 exactly.
 */
export function printGoJson(type: string, message: object, depth = 0): string {
  return printerOf(type)(message as Message, depth);
}

type Printer = (message: Message, depth: number) => string;

const printers: Record<string, Printer> = {};

function printerOf(type: string): Printer {
  return (printers[type] ??= new Function("P", "printerOf", "sortedKeys", "base64", "indent", printerSource(type))(
    printers, printerOf, sortedKeys, base64, indent,
  ) as Printer);
}

const indents: string[] = [];

/** Two spaces a level, as JSON.stringify(value, null, 2) indents. */
function indent(depth: number): string {
  return (indents[depth] ??= "  ".repeat(depth));
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/**
 * The printer of one message type: each member appends `"name": value` to `out`, one level deeper
 * than the message (`inner`); a message without members is `{}`.
 */
function printerSource(type: string): string {
  const lines = ["return function (m, d) {", "const inner = indent(d + 1);", 'let out = "";', "let v;", "let keys;", "let items;"];
  const member = (name: string, text: string) => `out += (out === "" ? "" : ",\\n") + inner + ${JSON.stringify(`${JSON.stringify(name)}: `)} + ${text};`;
  // A JSON object or array one level below the member: `{`/`[`, lines built into `items`, `}`/`]`.
  const block = (open: string, close: string) => `${JSON.stringify(`${open}\n`)} + items + "\\n" + inner + ${JSON.stringify(close)}`;
  const fields = fieldsOf(type);
  for (const field of fields) {
    const { name, type: valueType } = field;
    if (field.oneof !== undefined) {
      if (fields.find((other) => other.oneof === field.oneof) !== field) continue; // printed with the group's first member
      const group = field.oneof[0]!.toUpperCase() + field.oneof.slice(1);
      const chain = fields.filter((other) => other.oneof === field.oneof).map((f) => {
        const value = `m[${JSON.stringify(f.name)}]`;
        const wrapped = `items = indent(d + 2) + ${JSON.stringify(`${JSON.stringify(f.name)}: `)} + ${valueCode(f.type, value, "d + 2")}; ${member(group, block("{", "}"))}`;
        // The wrapper holds the set member; `{}` when it is a zero scalar (omitempty inside the wrapper).
        return `if (${value} !== undefined) { ${isMessage(f.type) ? wrapped : `if (${notDefault(f.type, value)}) { ${wrapped} } else ${member(group, '"{}"')}`} }`;
      });
      lines.push(`${chain.join(" else ")} else ${member(group, '"null"')}`);
      continue;
    }
    lines.push(`v = m[${JSON.stringify(name)}];`);
    const empty = field.always ? ` else ${member(name, '"null"')}` : "";
    const item = (value: string) => `items += (items === "" ? "" : ",\\n") + indent(d + 2) + ${value};`;
    if (field.map) {
      const entry = item(`JSON.stringify(k) + ": " + ${valueCode(valueType, "v[k]", "d + 2")}`);
      lines.push(`if (v !== undefined && (keys = sortedKeys(v)).length > 0) { items = ""; for (const k of keys) ${entry} ${member(name, block("{", "}"))} }${empty}`);
    } else if (field.repeated) {
      lines.push(`if (v !== undefined && v.length > 0) { items = ""; for (const x of v) ${item(valueCode(valueType, "x", "d + 2"))} ${member(name, block("[", "]"))} }${empty}`);
    } else if (isMessage(valueType)) {
      const print = member(name, valueCode(valueType, "(v ?? {})", "d + 1"));
      lines.push(field.always ? print : `if (v !== undefined) ${print}`);
    } else if (field.always) {
      lines.push(member(name, valueCode(valueType, `(v ?? ${defaultCode(valueType)})`, "d + 1")));
    } else {
      lines.push(`if (v !== undefined && ${notDefault(valueType, "v")}) ${member(name, valueCode(valueType, "v", "d + 1"))}`);
    }
  }
  lines.push('return out === "" ? "{}" : "{\\n" + out + "\\n" + indent(d) + "}";', "};");
  return lines.join("\n");
}

/** Generated code for the JSON text of a value of `type`; a message starts at `depth`. */
function valueCode(type: string, value: string, depth: string): string {
  switch (type) {
    case "string":
      return `JSON.stringify(${value})`;
    case "bytes":
      return `JSON.stringify(base64(${value}))`;
    case "bool":
      return `(${value} ? "true" : "false")`;
    case "int64":
    case "int32":
    case "uint32":
    case "enum":
      return `String(${value})`;
    default:
      return `(P[${JSON.stringify(type)}] ?? printerOf(${JSON.stringify(type)}))(${value}, ${depth})`;
  }
}

function defaultCode(type: string): string {
  if (type === "string") return '""';
  if (type === "bytes") return "new Uint8Array()";
  return type === "bool" ? "false" : "0";
}

/** JSON text as `JSON.stringify(value, null, 2)` writes it, plus bigints, and a final newline. */
export function formatJson(value: JsonValue): string {
  try {
    return `${JSON.stringify(value, null, 2)}\n`;
  } catch (e) {
    // Only a bigint (an int64 beyond 2^53, from decoding) makes JSON.stringify throw.
    if (!(e instanceof TypeError)) throw e;
    return `${format(value, "")}\n`;
  }
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
