/**
 * grpc-js plumbing from the generated descriptors (protoc-gen-es): the path and codec of a method,
 * a service definition for grpc-js servers, and typed calls on a grpc-js client. The messages are
 * encoded by @bufbuild/protobuf from the descriptors; nothing here knows a field.
 */
import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type DescService, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import grpc from "@grpc/grpc-js";

/** A method of a generated service, with its message types. */
export type Method<I extends DescMessage, O extends DescMessage> = DescMethod & { input: I; output: O };

function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

function serializer<T extends DescMessage>(schema: T): (message: MessageShape<T>) => Buffer {
  return (message) => Buffer.from(toBinary(schema, message));
}

function deserializer<T extends DescMessage>(schema: T): (bytes: Buffer) => MessageShape<T> {
  return (bytes) => fromBinary(schema, bytes);
}

/** The grpc-js definition of a generated service, keyed by the methods' local names. */
export function serviceDefinition(service: DescService): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: methodPath(method),
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
    } as grpc.MethodDefinition<object, object>;
  }
  return definition;
}

/** A unary call; resolves to the response, rejects with the grpc-js `ServiceError`. */
export function unary<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  method: Method<I, O>,
  request: MessageInitShape<I>,
  options: grpc.CallOptions = {},
  metadata: grpc.Metadata = new grpc.Metadata(),
): { response: Promise<MessageShape<O>>; call: grpc.ClientUnaryCall } {
  let call!: grpc.ClientUnaryCall;
  const response = new Promise<MessageShape<O>>((resolve, reject) => {
    call = client.makeUnaryRequest(methodPath(method), serializer(method.input), deserializer(method.output), create(method.input, request), metadata, options,
      (error, value) => (error || !value ? reject(error ?? new Error(`${method.name}: no response`)) : resolve(value)));
  });
  return { response, call };
}

/** A server-streaming call. */
export function serverStream<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  method: Method<I, O>,
  request: MessageInitShape<I>,
  options: grpc.CallOptions = {},
): grpc.ClientReadableStream<MessageShape<O>> {
  return client.makeServerStreamRequest(methodPath(method), serializer(method.input), deserializer(method.output), create(method.input, request), new grpc.Metadata(), options);
}

/** A bidirectional call. */
export function bidiStream<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  method: Method<I, O>,
  metadata: grpc.Metadata,
  options: grpc.CallOptions = {},
): grpc.ClientDuplexStream<MessageShape<I>, MessageShape<O>> {
  return client.makeBidiStreamRequest(methodPath(method), serializer(method.input), deserializer(method.output), metadata, options);
}

/** The `/package.Service/Method` names of a service's methods, as the session announces them. */
export function methodPaths(service: DescService): string[] {
  return service.methods.map(methodPath);
}

/** An error with a gRPC status, as a handler returns it. */
export function grpcError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** Ends a streaming call with an error status (grpc-js sends it on the stream's "error" event; destroy() would send none). */
export function fail(call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>, code: grpc.status, details: string): void {
  call.emit("error", grpcError(code, details));
}
