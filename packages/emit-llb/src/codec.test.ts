import { describe, expect, test } from "vitest";
import { decode, digestOf, encode, formatJson, printGoJson } from "./codec.js";
import { decodeDefinition, LlbDecodeError } from "./decode.js";
import { Reader, WireError, Writer } from "./proto.js";
import { messages, wireTypeOf, isMessage, type Op } from "./schema.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("the facts' test vector", () => {
  const op: Op = {
    source: { identifier: "docker-image://docker.io/library/python:3.11" },
    platform: { Architecture: "amd64", OS: "linux" },
    constraints: {},
  };

  test("encodes to exactly the given bytes and digest", () => {
    const bytes = encode("Op", op);
    expect(hex(bytes)).toBe(
      "1a2e0a2c646f636b65722d696d6167653a2f2f646f636b65722e696f2f6c6962726172792f707974686f6e3a332e3131520e0a05616d64363412056c696e75785a00",
    );
    expect(digestOf(bytes)).toBe("sha256:44df114132b34c4007ed397ac7ab15bbcd8a330b806b727011de90fe07d312ea");
  });

  test("decodes back to the same op", () => {
    expect(decode("Op", encode("Op", op))).toEqual(op);
  });
});

test("strings decode exactly, a leading U+FEFF included (not taken for a byte order mark)", () => {
  const meta = { args: ["\ufeff'", "\u2028", "😀e\u0301", "\u0085"], env: ["A=\ufeff"] };
  expect(decode("Meta", encode("Meta", meta))).toEqual(meta);
});

describe("encoding rules of the Go client", () => {
  test("negative numbers are 10-byte varints", () => {
    expect(hex(new Writer().varint(-1).finish())).toBe("ffffffffffffffffff01");
    expect(hex(encode("FileAction", { input: -1 }))).toBe("08ffffffffffffffffff01");
  });

  test("proto3 defaults are omitted: input index 0, output 0, empty strings, false", () => {
    expect(hex(encode("Input", { digest: "d", index: 0 }))).toBe("0a0164");
    expect(hex(encode("Mount", { input: 0, dest: "/", output: 0, readonly: false, selector: "" }))).toBe("1a012f");
  });

  test("a set oneof member is written even when zero (UserOpt byID 0 = root)", () => {
    expect(hex(encode("UserOpt", { byID: 0 }))).toBe("1000");
  });

  test("an empty message is written when present (constraints: 5a 00)", () => {
    expect(hex(encode("Op", { constraints: {} }))).toBe("5a00");
  });

  test("map entries are sorted by key, with key and value always written", () => {
    const bytes = encode("SourceOp", { attrs: { b: "", a: "1" } });
    expect(hex(bytes)).toBe("12060a0161120131" + "12050a01621200");
  });

  test("fields are written in field-number order whatever the object's key order", () => {
    const a = encode("Op", { constraints: {}, platform: { OS: "linux" }, exec: {}, inputs: [{ digest: "x" }] });
    expect(hex(a)).toBe("0a030a0178" + "1200" + "520712056c696e7578" + "5a00");
  });
});

describe("lengths that need more than one varint byte", () => {
  test.each([
    ["a short ASCII string", "x".repeat(20)],
    ["a long ASCII string", "x".repeat(200)],
    ["a short string that is not ASCII", "é".repeat(10)],
    ["a long one whose byte length outgrows its length's first byte", "é".repeat(100)],
    ["one of 20,000 characters", `${"ü".repeat(10_000)}${"x".repeat(10_000)}`],
  ])("%s, alone and nested", (_, text) => {
    const bytes = new TextEncoder().encode(text);
    const length = new Writer().varint(bytes.length).finish();
    expect(hex(encode("Meta", { args: [text] }))).toBe(`0a${hex(length)}${hex(bytes)}`);
    const meta = encode("Meta", { args: [text], cwd: "/" });
    expect(hex(encode("ExecOp", { meta: { args: [text], cwd: "/" } }))).toBe(`0a${hex(new Writer().varint(meta.length).finish())}${hex(meta)}`);
    expect(decode("ExecOp", encode("ExecOp", { meta: { args: [text, text], cwd: "/" } }))).toEqual({ meta: { args: [text, text], cwd: "/" } });
  });
});

describe("the schema table", () => {
  test("fields are in ascending number order and every message type exists", () => {
    for (const [name, fields] of Object.entries(messages)) {
      const numbers = fields.map((f) => f.no);
      expect(numbers, name).toEqual([...numbers].sort((a, b) => a - b));
      for (const field of fields) {
        if (!["string", "bytes", "bool", "int64", "int32", "uint32", "enum"].includes(field.type)) {
          expect(isMessage(field.type), `${name}.${field.name}`).toBe(true);
        }
        expect(wireTypeOf(field.type)).toBe(isMessage(field.type) || field.type === "string" || field.type === "bytes" ? 2 : 0);
      }
    }
  });
});

describe("Go JSON", () => {
  const goJson = (type: string, message: object) => JSON.parse(printGoJson(type, message));

  test("oneofs print as capitalized wrappers, null when unset", () => {
    expect(goJson("Op", { inputs: [{ digest: "d" }] })).toEqual({ inputs: [{ digest: "d", index: 0 }], Op: null });
    expect(goJson("UserOpt", { byID: 0 })).toEqual({ User: {} });
    expect(goJson("UserOpt", { byName: { name: "zenml" } })).toEqual({ User: { byName: { name: "zenml", input: 0 } } });
  });

  test("fields without omitempty print their zero value; missing caps print null", () => {
    expect(goJson("Mount", { dest: "/" })).toEqual({ input: 0, dest: "/", output: 0 });
    expect(goJson("OpMetadata", {})).toEqual({ caps: null });
  });

  test("bytes print as base64, int64 beyond 2^53 exactly", () => {
    expect(printGoJson("FileActionMkFile", { data: new TextEncoder().encode("hi\n"), timestamp: 1700000000123456789n })).toBe(
      '{\n  "data": "aGkK",\n  "timestamp": 1700000000123456789\n}',
    );
    expect(formatJson({ t: 1700000000123456789n, a: [], o: {} })).toBe('{\n  "t": 1700000000123456789,\n  "a": [],\n  "o": {}\n}\n');
  });

  test("laid out as JSON.stringify(value, null, 2) would, at any indent", () => {
    const op: Op = { inputs: [{ digest: "a", index: 1 }, { digest: "b" }], source: { identifier: "local://x", attrs: { k: "v" } }, constraints: {} };
    const text = printGoJson("Op", op, 2);
    expect(text).toBe(JSON.stringify(JSON.parse(text), null, 2).replaceAll("\n", "\n    "));
  });

  test("map keys in Go's order, by their UTF-8 bytes (a JavaScript object would put 9 before 10)", () => {
    const text = printGoJson("SourceOp", { attrs: { "\u{1f600}": "", "\ue000": "", "9": "", "10": "" } });
    expect([...text.matchAll(/"(.+)": ""/gu)].map((m) => m[1])).toEqual(["10", "9", "\ue000", "\u{1f600}"]);
  });

  test("a large timestamp survives decoding", () => {
    const bytes = encode("FileActionCopy", { timestamp: 1700000000123456789n });
    expect(decode("FileActionCopy", bytes)).toEqual({ timestamp: 1700000000123456789n });
  });

  test("formatJson matches JSON.stringify with two spaces for plain data", () => {
    const value = { a: [1, "x\n\"", { b: null, c: true }], d: { e: [] } };
    expect(formatJson(value)).toBe(`${JSON.stringify(value, null, 2)}\n`);
  });
});

describe("malformed input", () => {
  test("a truncated message reports where it breaks", () => {
    expect(() => new Reader(Uint8Array.from([0x0a, 0x05, 0x61])).delimited()).toThrow(WireError);
    expect(() => decode("Op", Uint8Array.from([0x0a, 0x05, 0x61]))).toThrow(/runs past the end at byte 2/);
  });

  test("a wire type that does not fit the field is rejected", () => {
    expect(() => decode("Op", Uint8Array.from([0x08, 0x01]))).toThrow(/field 1 of Op has wire type 0, expected 2/);
  });

  test("unknown fields are skipped, as in Go", () => {
    expect(decode("Meta", Uint8Array.from([0x60, 0x01, 0x1a, 0x01, 0x2f]))).toEqual({ cwd: "/" });
  });

  test("decodeDefinition rejects text, empty input and broken ops with LlbDecodeError", () => {
    expect(() => decodeDefinition(new TextEncoder().encode('[{"Op": {}}]'))).toThrow(LlbDecodeError);
    expect(() => decodeDefinition(new Uint8Array())).toThrow(/holds no operations/);
    expect(() => decodeDefinition(Uint8Array.from([0x0a, 0x02, 0x0a, 0x05]))).toThrow(/operation 1 of 1 is not valid protobuf/);
  });
});
