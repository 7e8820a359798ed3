/** The generated messages and services the client uses, under short names. */
export {
  Control,
  BytesMessageSchema as SessionBytesSchema,
  type BytesMessage as SessionBytes,
  SolveRequestSchema,
  StatusResponseSchema,
  type SolveRequest,
  type StatusResponse,
  type Vertex,
  type VertexLog,
  type VertexStatus,
  type VertexWarning,
} from "./gen/github.com/moby/buildkit/api/services/control/control_pb.js";
export { FileSend, FileSync, BytesMessageSchema, type BytesMessage } from "./gen/github.com/moby/buildkit/session/filesync/filesync_pb.js";
export { Secrets, GetSecretResponseSchema, type GetSecretRequest, type GetSecretResponse } from "./gen/github.com/moby/buildkit/session/secrets/secrets_pb.js";
export { Auth, CredentialsResponseSchema, type CredentialsRequest, type CredentialsResponse } from "./gen/github.com/moby/buildkit/session/auth/auth_pb.js";
export { Health, HealthCheckResponseSchema, HealthCheckResponse_ServingStatus, type HealthCheckRequest, type HealthCheckResponse } from "./gen/grpc/health/v1/health_pb.js";
export { PacketSchema, Packet_PacketType as PacketType, type Packet } from "./gen/github.com/tonistiigi/fsutil/types/wire_pb.js";
export { StatSchema, type Stat } from "./gen/stat_pb.js";
export { DefinitionSchema, type Definition } from "./gen/github.com/moby/buildkit/solver/pb/ops_pb.js";
