/**
 * A gRPC client that speaks to meshwarden as Envoy does: CheckRequests encoded with Envoy's
 * official protos, answers decoded with them; plus the standard gRPC Health client.
 */
import { createRequire } from 'node:module';
import { credentials, makeGenericClientConstructor, type CallOptions, type ChannelCredentials, type ChannelOptions, type Client } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { decodeOfficial, encodeOfficial } from './official-protos.js';

const require = createRequire(import.meta.url);
/** grpc.health.v1 as the gRPC project publishes it (shipped in grpc-health-check). */
const HEALTH = protobuf.loadSync(require.resolve('grpc-health-check/proto/health/v1/health.proto'));
const HealthRequest = HEALTH.lookupType('grpc.health.v1.HealthCheckRequest');
const HealthResponse = HEALTH.lookupType('grpc.health.v1.HealthCheckResponse');

export type RawCall = (bytes: Buffer, options: CallOptions, callback: (error: Error | null, response?: Buffer) => void) => void;
/** Bytes in, bytes out: the caller encodes and decodes (with Envoy's official protos). */
export type RawClient = Client & { Check: RawCall; HealthCheck: RawCall };

const identity = (bytes: Buffer) => bytes;
const rawUnary = (path: string) => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});

const RawClientConstructor = makeGenericClientConstructor(
  { Check: rawUnary('/envoy.service.auth.v3.Authorization/Check'), HealthCheck: rawUnary('/grpc.health.v1.Health/Check') },
  'Authorization',
);

/** A grpc-js client for meshwarden's Check and Health Check that sends and receives raw message bytes. */
export function rawClient(address: string, channel: ChannelCredentials = credentials.createInsecure(), options?: ChannelOptions): RawClient {
  return new RawClientConstructor(address, channel, options) as unknown as RawClient;
}

export type Decoded = Record<string, unknown> & {
  status?: { code?: number };
  deniedResponse?: { status?: { code?: string }; body?: string; headers?: { header: { key: string; value: string } }[] };
  okResponse?: { headers?: { header: { key: string; value: string } }[]; headersToRemove?: string[] };
  dynamicMetadata?: Record<string, unknown>;
};

type StructValue = { stringValue?: string; numberValue?: number; boolValue?: boolean; structValue?: Struct; nullValue?: unknown };
type Struct = { fields?: Record<string, StructValue> };

/** google.protobuf.Struct (as decoded) → plain JSON, for readable assertions. */
export function structToJson(struct: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((struct as Struct | undefined)?.fields ?? {})) {
    if (value.structValue !== undefined) out[key] = structToJson(value.structValue);
    else out[key] = value.stringValue ?? value.numberValue ?? value.boolValue ?? null;
  }
  return out;
}

export interface CheckClientOptions {
  /** Default: plaintext. */
  readonly credentials?: ChannelCredentials;
  /** Per-call deadline; default none. */
  readonly deadlineMs?: number;
  /** e.g. `grpc.use_local_subchannel_pool: 1`, so that clients of one address do not share a connection. */
  readonly channelOptions?: ChannelOptions;
}

export class CheckClient {
  readonly #client: RawClient;
  readonly #deadlineMs: number | undefined;

  constructor(address: string, options: CheckClientOptions = {}) {
    this.#deadlineMs = options.deadlineMs;
    this.#client = rawClient(address, options.credentials, options.channelOptions);
  }

  async check(request: Record<string, unknown>): Promise<Decoded> {
    const bytes = encodeOfficial('envoy.service.auth.v3.CheckRequest', request);
    return decodeOfficial('envoy.service.auth.v3.CheckResponse', await this.#call('Check', bytes)) as Decoded;
  }

  /** `SERVING`, `NOT_SERVING`, … of grpc.health.v1 for `service` ("" = the whole server). */
  async health(service = ''): Promise<string> {
    const bytes = Buffer.from(HealthRequest.encode(HealthRequest.create({ service })).finish());
    const answer = HealthResponse.toObject(HealthResponse.decode(await this.#call('HealthCheck', bytes)), { enums: String });
    return String(answer['status']);
  }

  close(): void {
    this.#client.close();
  }

  #call(method: 'Check' | 'HealthCheck', bytes: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const options: CallOptions = this.#deadlineMs === undefined ? {} : { deadline: Date.now() + this.#deadlineMs };
      this.#client[method](bytes, options, (error, answer) => (error || !answer ? reject(error ?? new Error('no answer')) : resolve(answer)));
    });
  }
}

/** A CheckRequest (official JSON field names) for an HTTP request from `principal`. */
export function httpCheck(options: {
  principal?: string;
  method?: string;
  path: string;
  host?: string;
  headers?: Record<string, string>;
  service?: string;
  headerMap?: boolean;
}): Record<string, unknown> {
  const headers = { ':method': options.method ?? 'GET', ':path': options.path, ...(options.headers ?? {}) };
  const http: Record<string, unknown> = {
    method: options.method ?? 'GET',
    path: options.path,
    host: options.host ?? 'svc.local',
    scheme: 'http',
    protocol: 'HTTP/2',
  };
  if (options.headerMap) {
    http['headerMap'] = { headers: Object.entries(headers).map(([key, value]) => ({ key, rawValue: Buffer.from(value) })) };
  } else {
    http['headers'] = headers;
  }
  return {
    attributes: {
      source: {
        address: { socketAddress: { address: '10.1.2.3', portValue: 41000 } },
        ...(options.principal ? { principal: options.principal } : {}),
      },
      destination: { address: { socketAddress: { address: '10.9.9.9', portValue: 8080 } } },
      request: { http },
      ...(options.service ? { contextExtensions: { service: options.service } } : {}),
    },
  };
}

/** Whether a server still answers a legitimate Check from a fresh grpc-js client, as Envoy would make it (5 s). */
export async function answersACheck(address: string, request: Buffer): Promise<boolean> {
  const client = rawClient(address);
  try {
    return await new Promise((resolve) => {
      client.Check(request, { deadline: Date.now() + 5_000 }, (error, response) => resolve(error === null && response !== undefined));
    });
  } finally {
    client.close();
  }
}
