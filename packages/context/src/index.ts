/**
 * @dockwright/context: build contexts with Docker's exact `.dockerignore` semantics (BuildKit's),
 * a pruning walk, content hashing with a stat cache, deterministic archives and staging.
 */
export { findSourceRoot, type SourceRootOptions } from "./root.js";
export { parseDockerignore, loadDockerignore, type Dockerignore } from "./dockerignore.js";
export { createMatcher, type Matcher, type MatchState } from "./matcher.js";
export type { Pattern } from "./pattern.js";
export { listContext, walkContext, type WalkOptions, type ContextList, type ListedEntry, type ContextWalk, type WalkEntry, type Progress } from "./walk.js";
export { hashContext, snapshotDigest, loadStatCache, saveStatCache, type StatCache, type CachedHash, type HashOptions } from "./hash.js";
export { writeContextTar } from "./tar.js";
export { writeCodeArchive, type CodeArchive, type CodeArchiveOptions } from "./code-archive.js";
export { stageContext } from "./stage.js";
export { contextWarnings, formatBytes, type WarningOptions } from "./warnings.js";
export { readRegularFile, describeError, type ReadOptions } from "./read.js";
