/**
 * What Docker makes of an `ENV KEY=<text>` line: the instruction parser's word splitting, then
 * the shell lexer's quote removal and variable expansion, kept symbolic (a variable stays a
 * reference, resolved against the image's environment when it is built). ZenML writes user values
 * into such lines unescaped (raw, or inside single quotes), so this is how the value a release
 * means is found, and why some values cannot be built at all.
 */
import type { EnvPart, EnvValue } from "./ir.js";

export type ParsedEnv = { value: EnvValue } | { problem: string };

/** The value Docker sets for `ENV <key>=<text>`, or why Docker would not build the line. */
export function dockerEnvValue(key: string, text: string): ParsedEnv {
  if (/\\\s*$/.test(text)) return { problem: "it ends with a backslash, which joins the next instruction to this line" };
  const words = instructionWords(`${key}=${text}`);
  if (words.length !== 1) {
    const extra = words[1] ?? "";
    return {
      problem: extra.includes("=")
        ? `Docker splits it at the blank and also sets the variable \`${extra.slice(0, extra.indexOf("="))}\``
        : `Docker splits it at the blank and rejects the line ("can't find = in ${JSON.stringify(extra)}")`,
    };
  }
  const lexer = new Lexer(words[0]!.slice(key.length + 1));
  try {
    return { value: lexer.word(undefined) };
  } catch (e) {
    if (e instanceof LexError) return { problem: e.message };
    throw e;
  }
}

/** The value as text, with every variable read from `env` (unset: empty), as Docker evaluates it. */
export function evaluateEnv(value: EnvValue, env: (name: string) => string | undefined): string {
  let out = "";
  for (const part of value) {
    if (typeof part === "string") {
      out += part;
      continue;
    }
    const current = env(part.variable);
    const unset = current === undefined || (part.modifier?.startsWith(":") === true && current === "");
    if (part.modifier === undefined) out += current ?? "";
    else if (part.modifier.endsWith("-")) out += unset ? evaluateEnv(part.word ?? [], env) : current!;
    else out += unset ? "" : evaluateEnv(part.word ?? [], env);
  }
  return out;
}

/** The value without variables, when it has none. */
export function literalEnv(value: EnvValue): string | undefined {
  return value.every((part) => typeof part === "string") ? value.join("") : undefined;
}

/** BuildKit's `parseWords`: split at blanks outside quotes; quotes and escapes are kept. */
function instructionWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: string | undefined;
  let blankOk = false;
  const chars = Array.from(line);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (quote === undefined) {
      if (/\s/u.test(ch)) {
        if (inWord && (blankOk || word !== "")) words.push(word);
        [word, inWord, blankOk] = ["", false, false];
        continue;
      }
      inWord = true;
      if (ch === "'" || ch === '"') [quote, blankOk] = [ch, true];
      if (ch === "\\") {
        if (i + 1 === chars.length) continue;
        word += ch + chars[++i]!;
        continue;
      }
      word += ch;
    } else {
      if (ch === quote) quote = undefined;
      else if (ch === "\\" && quote !== "'") {
        if (i + 1 === chars.length) continue;
        word += ch + chars[++i]!;
        continue;
      }
      word += ch;
    }
  }
  if (inWord && (blankOk || word !== "")) words.push(word);
  return words;
}

class LexError extends Error {}

/** BuildKit's shell lexer (`ProcessWord`), producing literal text and variable references. */
class Lexer {
  private readonly chars: string[];
  private position = 0;
  constructor(text: string) {
    this.chars = Array.from(text);
  }
  private peek(): string | undefined {
    return this.chars[this.position];
  }
  private next(): string | undefined {
    return this.chars[this.position++];
  }

  /** Reads up to `stop` (consumed), or to the end when `stop` is undefined. */
  word(stop: string | undefined): EnvValue {
    const parts = new Parts();
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (stop !== undefined && ch === stop) {
        this.next();
        return parts.value;
      }
      if (ch === "$") parts.add(this.dollar());
      else if (ch === "'") parts.text(this.singleQuoted());
      else if (ch === '"') parts.add(this.doubleQuoted());
      else {
        this.next();
        if (ch === "\\") {
          const escaped = this.next();
          if (escaped === undefined) break;
          parts.text(escaped);
        } else parts.text(ch);
      }
    }
    if (stop !== undefined) throw new LexError(`a \`\${\` is missing its \`${stop}\``);
    return parts.value;
  }

  private singleQuoted(): string {
    this.next();
    let out = "";
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new LexError("a single quote is never closed (Docker: \"unexpected end of statement while looking for matching single-quote\")");
      if (ch === "'") return out;
      out += ch;
    }
  }

  private doubleQuoted(): EnvValue {
    this.next();
    const parts = new Parts();
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw new LexError("a double quote is never closed (Docker: \"unexpected end of statement while looking for matching double-quote\")");
      if (ch === '"') {
        this.next();
        return parts.value;
      }
      if (ch === "$") {
        parts.add(this.dollar());
        continue;
      }
      this.next();
      if (ch === "\\") {
        const after = this.peek();
        if (after === undefined) continue;
        if (after === '"' || after === "$" || after === "\\") parts.text(this.next()!);
        else parts.text(ch);
        continue;
      }
      parts.text(ch);
    }
  }

  private dollar(): EnvValue {
    this.next();
    if (this.peek() !== "{") {
      const name = this.name();
      // Positional and special parameters are never set in a build: they expand to nothing.
      return name === "" ? ["$"] : isVariableName(name) ? [{ variable: name }] : [];
    }
    this.next();
    const first = this.peek();
    if (first === undefined) throw new LexError("a `${` is missing its `}`");
    if (first === "{" || first === "}" || first === ":") throw new LexError("`${...}` is a bad substitution");
    const name = this.name();
    if (!isVariableName(name)) throw new LexError(`\`\${${name}...}\` refers to a shell parameter, which a build never sets; write the value itself`);
    const ch = this.next();
    if (ch === "}") return [{ variable: name }];
    let modifier = ch ?? "";
    if (modifier === ":") modifier += this.next() ?? "";
    if (modifier !== "-" && modifier !== ":-" && modifier !== "+" && modifier !== ":+") {
      throw new LexError(`\`\${${name}${modifier}...}\` uses a substitution that not every builder supports; only \`$${name}\`, \`\${${name}}\`, \`\${${name}:-word}\` and \`\${${name}:+word}\` are reproduced`);
    }
    return [{ variable: name, modifier, word: this.word("}") }];
  }

  private name(): string {
    const first = this.peek();
    if (first === undefined) return "";
    if (/\p{Nd}/u.test(first)) {
      let digits = "";
      while (this.peek() !== undefined && /\p{Nd}/u.test(this.peek()!)) digits += this.next();
      return digits;
    }
    if ("@*#?-$!0".includes(first)) return this.next()!;
    let name = "";
    while (this.peek() !== undefined && /[\p{L}\p{Nd}_]/u.test(this.peek()!)) name += this.next();
    return name;
  }
}

function isVariableName(name: string): boolean {
  return /^[\p{L}_][\p{L}\p{Nd}_]*$/u.test(name);
}

/** Accumulates parts, joining adjacent text. */
class Parts {
  readonly value: EnvPart[] = [];
  text(text: string): void {
    const last = this.value.length - 1;
    if (typeof this.value[last] === "string") this.value[last] += text;
    else this.value.push(text);
  }
  add(parts: EnvValue): void {
    for (const part of parts) typeof part === "string" ? this.text(part) : this.value.push(part);
  }
}
