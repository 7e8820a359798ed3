/**
 * @dockwright/buildkit: a native BuildKit client. Connect to buildkitd (unix, TCP with TLS,
 * docker-container://, Docker's engine), solve an LLB definition or a frontend with exporters,
 * caches, secrets and local directories served by the session, and follow the build as typed
 * events or plain lines.
 */
export { connect, type BuildkitClient, type BuildRequest, type CacheEntry, type ConnectOptions, type DaemonInfo, type Export, type SecretSource, type SolveOptions, type SolveResult, type TlsOptions } from "./client.js";
export { progressPrinter, type BuildEvent } from "./progress.js";
export { BuildkitError } from "./errors.js";
export type { Credentials, PacketTrace } from "./session.js";
