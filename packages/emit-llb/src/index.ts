export { emitLlb, type DumpLlbJson, type DumpLlbOp } from "./emit.js";
export { decodeDefinition, printDefinition, LlbDecodeError } from "./decode.js";
export { formatJson, type JsonValue, type JsonObject } from "./codec.js";
export { frontendArgs, frontendAttributes, type FrontendDirs } from "./notes.js";
