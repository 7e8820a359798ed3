// One whole process that loads @dockwright/context and walks ROOT with its .dockerignore, as
// `dockwright context ROOT` does; prints the count and the peak RSS. Used by run.mjs.
import { loadDockerignore, walkContext } from "../../packages/context/dist/index.js";

const root = process.argv[2];
const { patterns } = await loadDockerignore(root);
const walk = await walkContext(root, { patterns });
process.stdout.write(JSON.stringify({ entries: walk.entries.length, maxRssKiB: process.resourceUsage().maxRSS }));
