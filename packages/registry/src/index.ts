/**
 * @dockwright/registry: a small OCI distribution client on Node's fetch (undici). It resolves
 * references (multi-platform indexes to one platform), reads image configurations, checks that
 * tags exist and copies manifests to new tags, with Docker's credential rules.
 */
export {
  createRegistryClient,
  insecureHosts,
  type RegistryClient,
  type RegistryClientOptions,
  type Resolved,
  type ResolvedConfig,
} from "./client.js";
export type { Tagged } from "./copy.js";
export { credentialsFor, type Credentials, type CredentialOptions } from "./credentials.js";
export { RegistryError, registryCodes, type RegistryErrorCode } from "./errors.js";
export type { ImageConfig, ContainerConfig } from "./manifest.js";
export type { Platform, PlatformInput } from "./platform.js";
export { parseReference } from "./reference.js";
