/**
 * One `.dockerignore` pattern, compiled the way Docker compiles it (moby/patternmatcher `New` and
 * `Pattern.compile`). A pattern becomes an exact, prefix or suffix test when its wildcards allow,
 * else a regular expression. That expression is first written in Go's syntax exactly as Docker
 * writes it, then translated to JavaScript, so Docker's behaviour (quirks included) carries over:
 * keeping the port line by line lets a reader check it against the Go source.
 */
import { cleanPath } from "@dockwright/core/strings";

export type Pattern = {
  /** The cleaned pattern, without its `!`. */
  readonly text: string;
  /** An exception (`!pattern`): it re-includes what it matches. */
  readonly exclusion: boolean;
  /** Does the pattern match this `/`-separated path relative to the context root? */
  readonly test: (path: string) => boolean;
};

/** A pattern Docker refuses; the message says why, in Docker's words first. */
export class PatternError extends Error {
  constructor(reason: string) {
    super(`syntax error in pattern: ${reason}`);
  }
}

// Go's unicode.IsSpace: not quite what String.trim removes (it keeps U+0085, drops U+FEFF).
const space = "[\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const edgeSpace = new RegExp(`^${space}+|${space}+$`, "g");

/** Go's `strings.TrimSpace`. */
export function trimSpace(text: string): string {
  return text.replace(edgeSpace, "");
}

/**
 * patternmatcher.New for one pattern: trim, clean, split off `!`, check the syntax. Undefined for
 * an empty pattern (Docker skips it). Note the clean runs before `!` is split off, as in Docker.
 */
export function parsePattern(raw: string): Pattern | undefined {
  let text = trimSpace(raw);
  if (text === "") return undefined;
  text = cleanPath(text);
  const exclusion = text.startsWith("!");
  if (exclusion) {
    if (text === "!") throw new PatternError('"!" alone excludes nothing; write "!" before a pattern');
    text = text.slice(1);
  }
  const reason = globSyntaxError(text);
  if (reason) throw new PatternError(reason);
  return { text, exclusion, test: compile(text) };
}

/**
 * Go's `filepath.Match` syntax check, which Docker runs on every pattern: a `[...]` class must be
 * closed and non-empty, a range needs both ends, and a backslash must escape something.
 */
function globSyntaxError(pattern: string): string | undefined {
  const chars = Array.from(pattern);
  // One class member (Go's getEsc): the index after it, or -1 when the class is malformed.
  const member = (i: number): number => {
    if (i >= chars.length || chars[i] === "-" || chars[i] === "]") return -1;
    if (chars[i] === "\\") i++;
    return i + 1 < chars.length ? i + 1 : -1;
  };
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === "\\") {
      if (++i === chars.length) return 'a trailing "\\" escapes nothing';
    } else if (chars[i] === "[") {
      i++;
      if (chars[i] === "^") i++;
      for (let members = 0; !(chars[i] === "]" && members > 0); members++) {
        i = member(i);
        if (i >= 0 && chars[i] === "-") i = member(i + 1);
        if (i < 0) return `"[" is not closed, or a "-" or "]" stands where a character belongs (write "\\[" for a literal "[")`;
      }
    }
  }
  return undefined;
}

/** Port of moby/patternmatcher `Pattern.compile` with `/` as separator. */
function compile(pattern: string): (path: string) => boolean {
  let go = "^"; // the regular expression in Go's syntax, as Docker builds it
  let kind: "exact" | "prefix" | "suffix" | "regexp" = "exact";
  const chars = Array.from(pattern); // Docker scans code points
  for (let i = 0; i < chars.length; i++) {
    const start = i;
    const ch = chars[i]!;
    if (ch === "*" && chars[i + 1] === "*") {
      i++;
      if (chars[i + 1] === "/") i++; // `**/` is `**`
      if (i + 1 === chars.length) {
        // `**` at the end: everything below
        if (kind === "exact") kind = "prefix";
        else {
          go += ".*";
          kind = "regexp";
        }
      } else {
        go += "(.*/)?"; // zero or more directories
        kind = "regexp";
      }
      // Docker's quirk: a leading `**` turns the rest into a plain suffix (`**file` matches
      // `profile`) unless a later wildcard makes it a regular expression again.
      if (start === 0) kind = "suffix";
    } else if (ch === "*") {
      go += "[^/]*";
      kind = "regexp";
    } else if (ch === "?") {
      go += "[^/]";
      kind = "regexp";
    } else if (".+()|{}$".includes(ch)) {
      go += `\\${ch}`;
    } else if (ch === "\\") {
      go += `\\${chars[++i]}`; // the syntax check guarantees a next character
      kind = "regexp";
    } else if (ch === "[" || ch === "]") {
      go += ch;
      kind = "regexp";
    } else {
      go += ch;
    }
  }

  if (kind === "exact") return (path) => path === pattern;
  if (kind === "prefix") {
    const prefix = pattern.slice(0, -2);
    return (path) => path.startsWith(prefix);
  }
  if (kind === "suffix") {
    const suffix = pattern.slice(2);
    return (path) => path.endsWith(suffix) || (suffix.startsWith("/") && path === suffix.slice(1));
  }
  let regexp: RegExp;
  try {
    regexp = new RegExp(goToJs(`${go}$`), "u");
  } catch (e) {
    throw e instanceof PatternError ? e : new PatternError((e as Error).message);
  }
  return (path) => regexp.test(path);
}

/** Go's Perl classes and control escapes as JavaScript writes them (`\s` and `\a` differ). */
const goEscapes: Record<string, { outside: string; inside?: string }> = {
  d: { outside: "\\d", inside: "\\d" }, // ASCII in both languages
  D: { outside: "\\D", inside: "\\D" },
  w: { outside: "\\w", inside: "\\w" },
  W: { outside: "\\W", inside: "\\W" },
  s: { outside: "[\\t\\n\\f\\r ]", inside: "\\t\\n\\f\\r " }, // Go's \s is ASCII only
  S: { outside: "[^\\t\\n\\f\\r ]" },
  a: { outside: "\\x07", inside: "\\x07" },
  f: { outside: "\\f", inside: "\\f" },
  t: { outside: "\\t", inside: "\\t" },
  n: { outside: "\\n", inside: "\\n" },
  r: { outside: "\\r", inside: "\\r" },
  v: { outside: "\\v", inside: "\\v" },
};

/** Go's POSIX classes (`[[:alpha:]]`), as members of a JavaScript class. */
const posixClasses: Record<string, string> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7f",
  blank: "\\t ",
  cntrl: "\\x00-\\x1f\\x7f",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`\\{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

/**
 * Translates the Go regular expression `compile` writes into JavaScript (`u` flag, so a class or
 * `?` matches one code point as in Go). It tracks `[...]` the way Go's parser does, which is what
 * makes Docker's odd cases come out the same: `*` inside a class becomes `[^/]*`, whose `]`
 * closes the user's class early. Escapes with a regular-expression meaning Dockwright does not
 * reproduce (`\b`, `\x41`, `\pL`, `\Q`, octal) are refused rather than guessed.
 */
function goToJs(go: string): string {
  const chars = Array.from(go);
  let js = "";
  let inClass = false;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === "\\") {
      js += escape(chars[++i] ?? "", inClass);
    } else if (inClass) {
      if (c === "]") inClass = false;
      const rest = c === "[" && chars[i + 1] === ":" ? chars.slice(i + 2).join("") : "";
      const close = rest.indexOf(":]");
      if (close >= 0) {
        // Go reads `[:name:]` up to the first `:]`, wherever that is
        const name = rest.slice(0, close);
        const members = posixClasses[name];
        if (members === undefined) throw new PatternError(`the character class "[:${name}:]" is not supported`);
        js += members;
        i += Array.from(name).length + 3;
      } else {
        js += c;
      }
    } else if (c === "[") {
      js += "[";
      inClass = true;
      if (chars[i + 1] === "^") js += chars[++i];
    } else if (c === ".") {
      js += "[^\\n]"; // Go's `.` excludes only \n; JavaScript's also \r, U+2028 and U+2029
    } else if (c === "(") {
      js += "(?:";
    } else if ("^$)*?".includes(c)) {
      js += c; // operators `compile` wrote, and `^`, which Docker leaves unescaped (an anchor)
    } else {
      js += "]{}|+".includes(c) ? `\\${c}` : c; // Go reads a lone `]` as a literal
    }
  }
  return js;
}

/** One Go escape `\c` as JavaScript, inside or outside a class. */
function escape(c: string, inClass: boolean): string {
  if (c === "") throw new PatternError('a trailing "\\" escapes nothing');
  const code = c.codePointAt(0)!;
  const alphanumeric = /[0-9A-Za-z]/.test(c);
  if (code < 0x80 && !alphanumeric) {
    // Punctuation stands for itself; JavaScript's `u` flag accepts only some identity escapes.
    if ("^$\\.*+?()[]{}|/".includes(c) || (inClass && c === "-")) return `\\${c}`;
    return c;
  }
  const known = goEscapes[c];
  const js = known && (inClass ? known.inside : known.outside);
  if (js === undefined) throw new PatternError(`"\\${c}" is not an escape Docker accepts; only punctuation can be escaped`);
  return js;
}
