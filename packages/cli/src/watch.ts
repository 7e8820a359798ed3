/**
 * `compile --watch`: recompiles when a file the last compile read changes (the configuration,
 * requirements files, pyproject.toml, the .dockerignore), once per burst of changes.
 *
 * Each file's folder is watched rather than the file, so that an editor that saves by writing a
 * new file and renaming it over the old one, or a file created later, is seen too.
 */
import { watch, type FSWatcher } from "node:fs";
import path from "node:path";

/** Changes closer together than this are one recompile: an editor's save is several events. */
export const debounceMs = 200;

/**
 * Calls `recompile` with the changed files whenever some of `files` change, until `stop`
 * resolves; `recompile` returns the files to watch from then on. One recompile runs at a time.
 */
export async function watchFiles(
  files: ReadonlySet<string>,
  recompile: (changed: string[]) => Promise<ReadonlySet<string>>,
  stop: Promise<void>,
): Promise<void> {
  let watched = files;
  const watchers = new Map<string, FSWatcher>();
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      running = running.then(async () => {
        const batch = [...changed].sort();
        changed.clear();
        watched = await recompile(batch);
        follow();
      });
    }, debounceMs);
  };

  /** Watches the folders of the current files, and no others. */
  const follow = () => {
    const folders = new Set([...watched].map((file) => path.dirname(file)));
    for (const [folder, watcher] of watchers) {
      if (folders.has(folder)) continue;
      watcher.close();
      watchers.delete(folder);
    }
    for (const folder of folders) {
      if (watchers.has(folder)) continue;
      try {
        const watcher = watch(folder, (_, name) => {
          const file = name === null ? undefined : path.join(folder, name.toString());
          if (file === undefined || watched.has(file)) {
            changed.add(file ?? folder);
            schedule();
          }
        });
        watcher.on("error", () => watchers.delete(folder)); // the folder went away
        watchers.set(folder, watcher);
      } catch {
        // A folder that does not exist (yet) holds nothing to watch.
      }
    }
  };

  follow();
  await stop;
  clearTimeout(timer);
  for (const watcher of watchers.values()) watcher.close();
  await running;
}
