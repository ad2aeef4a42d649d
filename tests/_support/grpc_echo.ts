/**
 * A real `@grpc/grpc-js` server for the gRPC tests: the `test.Echo` service, defined by hand with JSON
 * (de)serializers, so no .proto or proto-loader is involved; the framing, metadata, status and trailers are real gRPC.
 * `Echo` answers the message and the client's `x-client-meta` values with an `x-origin-trailer: t1` trailer, or
 * `NOT_FOUND` when asked to fail (a trailers-only answer); `Many` streams `count` replies, and with `hold` stops after
 * the first until {@linkcode GrpcOrigin.release} is called.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";

/** A request of the Echo service. */
export interface EchoRequest {
  message: string;
  fail?: boolean;
  count?: number;
  /** `Many`: send the first reply, then wait for {@linkcode GrpcOrigin.release}. */
  hold?: boolean;
}

/** A reply of the Echo service. */
export interface EchoReply {
  message: string;
  meta: string[];
  index?: number;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}
function parse<T>(buf: Buffer): T {
  return JSON.parse(buf.toString("utf8")) as T;
}

/** The `test.Echo` service: `/test.Echo/Echo` (unary) and `/test.Echo/Many` (server streaming). */
export const echoService = {
  echo: {
    path: "/test.Echo/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: json,
    requestDeserialize: (b: Buffer) => parse<EchoRequest>(b),
    responseSerialize: json,
    responseDeserialize: (b: Buffer) => parse<EchoReply>(b),
  },
  many: {
    path: "/test.Echo/Many",
    requestStream: false,
    responseStream: true,
    requestSerialize: json,
    requestDeserialize: (b: Buffer) => parse<EchoRequest>(b),
    responseSerialize: json,
    responseDeserialize: (b: Buffer) => parse<EchoReply>(b),
  },
} as unknown as grpc.ServiceDefinition;

/** A running Echo server. */
export interface GrpcOrigin {
  readonly port: number;
  /** Lets held `Many` calls go on. */
  release(): void;
  close(): Promise<void>;
}

/** Starts the Echo server on 127.0.0.1 (h2c). */
export async function startGrpcOrigin(): Promise<GrpcOrigin> {
  const server = new grpc.Server();
  let gate = Promise.withResolvers<void>();
  server.addService(echoService, {
    echo(call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) {
      if (call.request.fail) {
        cb({ code: grpc.status.NOT_FOUND, details: `no such thing: ${call.request.message}` });
        return;
      }
      const trailer = new grpc.Metadata();
      trailer.set("x-origin-trailer", "t1");
      const meta = call.metadata.get("x-client-meta").map(String);
      cb(null, { message: call.request.message, meta }, trailer);
    },
    async many(call: grpc.ServerWritableStream<EchoRequest, EchoReply>) {
      const n = call.request.count ?? 3;
      for (let i = 0; i < n; i++) {
        call.write({ message: call.request.message, meta: [], index: i });
        if (i === 0 && call.request.hold) await gate.promise;
      }
      call.end();
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, p) => {
      if (error) reject(error);
      else resolve(p);
    });
  });
  return {
    port,
    release() {
      gate.resolve();
      gate = Promise.withResolvers<void>();
    },
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
