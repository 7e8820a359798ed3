/**
 * Deciding what a build context excludes, as BuildKit decides it (tonistiigi/fsutil `filterFS.Walk`
 * with moby/patternmatcher `MatchesUsingParentResults`): each entry is evaluated with its
 * directory's result, and excluded directories are skipped under BuildKit's pruning rule.
 */
import { codes, DiagnosticError, error } from "@dockwright/core/diagnostics";
import { parsePattern, PatternError, type Pattern } from "./pattern.js";

/** The result for one path, kept for a directory so that its entries can inherit it. */
export type MatchState = {
  readonly excluded: boolean;
  /** Per pattern: did it match this path or a parent directory? */
  readonly matched: readonly boolean[];
};

export type Matcher = {
  readonly patterns: readonly Pattern[];
  /** The state of `path`, given the state of its directory (none for entries of the root). */
  match(path: string, parent?: MatchState): MatchState;
  /** May the walk skip this excluded directory without reading it (BuildKit's pruning rule)? */
  canSkip(dir: string): boolean;
  /** Would the walk leave out `path`? Evaluates each parent directory first, like the walk. */
  excludes(path: string): boolean;
};

/**
 * A matcher for patterns in Docker's normalized form (what `parseDockerignore` returns). Throws a
 * `DiagnosticError` (INVALID_DOCKERIGNORE) for a pattern Docker refuses.
 */
export function createMatcher(patterns: readonly string[]): Matcher {
  const compiled: Pattern[] = [];
  for (const raw of patterns) {
    try {
      const pattern = parsePattern(raw);
      if (pattern) compiled.push(pattern);
    } catch (e) {
      if (!(e instanceof PatternError)) throw e;
      throw new DiagnosticError([error(codes.INVALID_DOCKERIGNORE, "", `invalid .dockerignore pattern ${JSON.stringify(raw)}: ${e.message}.`)]);
    }
  }
  const canSkip = pruningRule(compiled);

  // Most entries match no pattern: they share one state instead of allocating their own.
  const unmatched: MatchState = { excluded: false, matched: new Array<boolean>(compiled.length).fill(false) };

  function match(path: string, parent?: MatchState): MatchState {
    let excluded = false;
    let matched: boolean[] | undefined;
    for (let i = 0; i < compiled.length; i++) {
      const pattern = compiled[i]!;
      // A pattern that matched a parent directory matches everything below it.
      let hit = parent?.matched[i] === true;
      if (!hit) {
        // Only a pattern that could change the result is tried: Docker skips the rest, and a
        // skipped pattern is not recorded as matched for the entries below either.
        if (pattern.exclusion !== excluded) continue;
        hit = pattern.test(path);
      }
      if (hit) {
        (matched ??= new Array<boolean>(compiled.length).fill(false))[i] = true;
        excluded = !pattern.exclusion;
      }
    }
    return matched ? { excluded, matched } : unmatched;
  }

  function excludes(path: string): boolean {
    let state: MatchState | undefined;
    let dir = "";
    for (const name of path.split("/")) {
      if (state?.excluded && canSkip(dir)) return true;
      dir = dir ? `${dir}/${name}` : name;
      state = match(dir, state);
    }
    return state?.excluded ?? false;
  }

  return { patterns: compiled, match, canSkip, excludes };
}

/**
 * BuildKit skips an excluded directory when no exception can re-include anything inside it: there
 * are no exceptions, or every exception is free of wildcards (after dropping a trailing `/**` or
 * `/*`) and lies outside the directory. Any wildcard in an exception makes it walk every excluded
 * directory, which is how `*` then `!**\/*.py` finds `sub/x.py`.
 */
function pruningRule(patterns: readonly Pattern[]): (dir: string) => boolean {
  const exceptions = patterns.filter((p) => p.exclusion).map((p) => p.text.replace(/\/\*\*$/, "").replace(/\/\*$/, ""));
  if (exceptions.some((e) => /[*[\]?^\\]/.test(e))) return () => false;
  const bases = exceptions.map((e) => `${e}/`);
  return (dir) => {
    const prefix = `${dir}/`;
    return !bases.some((base) => base.startsWith(prefix));
  };
}
