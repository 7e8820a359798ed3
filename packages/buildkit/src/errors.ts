/** The one error type of the client, with a message fit for a user: no stack trace needed. */
import grpc from "@grpc/grpc-js";

export class BuildkitError extends Error {
  override readonly name = "BuildkitError";
  /** The gRPC status code, when the daemon (or the connection) gave one. */
  readonly code: grpc.status | undefined;

  constructor(message: string, code?: grpc.status) {
    super(message);
    this.code = code;
  }
}

/** A readable error for a failed call to the daemon at `address`. */
export function callError(what: string, address: string, e: unknown): BuildkitError {
  if (e instanceof BuildkitError) return e;
  const service = e as Partial<grpc.ServiceError>;
  const details = (service.details || (e instanceof Error ? e.message : String(e))).trim();
  if (service.code === grpc.status.UNAVAILABLE) {
    return new BuildkitError(`lost the connection to buildkitd at ${address} (${what}): ${details}. Is buildkitd running there, and is the address right?`, service.code);
  }
  if (service.code === grpc.status.CANCELLED) return new BuildkitError(`${what} was cancelled`, service.code);
  if (service.code === grpc.status.DEADLINE_EXCEEDED) return new BuildkitError(`${what}: buildkitd at ${address} did not answer in time`, service.code);
  return new BuildkitError(`${what} failed: ${details}`, service.code);
}
