/**
 * What the operations e2e tests share: the admin endpoints read over real HTTP, the metrics
 * exposition parsed, a grpc.health.v1 Watch stream, and policy files written atomically.
 */
import { createRequire } from 'node:module';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, makeGenericClientConstructor, type Client, type ClientReadableStream } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { parseExposition, sampleValue, type ParsedSample } from '../telemetry/exposition.js';

export async function adminGet(admin: string, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://${admin}${path}`);
  return { status: response.status, body: await response.text() };
}

export interface PolicyInfo {
  readonly loaded: boolean;
  readonly generation: number;
  readonly hash: string;
  readonly files: readonly { path: string; sha256: string }[];
  readonly [key: string]: unknown;
}

export async function policyInfo(admin: string): Promise<PolicyInfo> {
  return JSON.parse((await adminGet(admin, '/policy')).body) as PolicyInfo;
}

export class Scrape {
  constructor(readonly samples: readonly ParsedSample[]) {}

  static async of(admin: string): Promise<Scrape> {
    const { status, body } = await adminGet(admin, '/metrics');
    if (status !== 200) throw new Error(`/metrics answered ${status}`);
    return new Scrape(parseExposition(body));
  }

  /** The sample's value; an absent series reads as 0 (counters that never moved). */
  value(name: string, labels: Record<string, string> = {}): number {
    return sampleValue(this.samples, name, labels) ?? 0;
  }
}

/** A metric read fresh on each call, for expect.poll. */
export function metric(admin: string, name: string, labels: Record<string, string> = {}): () => Promise<number> {
  return async () => (await Scrape.of(admin)).value(name, labels);
}

const require = createRequire(import.meta.url);
const HEALTH = protobuf.loadSync(require.resolve('grpc-health-check/proto/health/v1/health.proto'));
const HealthRequest = HEALTH.lookupType('grpc.health.v1.HealthCheckRequest');
const HealthResponse = HEALTH.lookupType('grpc.health.v1.HealthCheckResponse');

const WatchClient = makeGenericClientConstructor(
  {
    Watch: {
      path: '/grpc.health.v1.Health/Watch',
      requestStream: false,
      responseStream: true,
      requestSerialize: (bytes: Buffer) => bytes,
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: (bytes: Buffer) => bytes,
      responseDeserialize: (bytes: Buffer) => bytes,
    },
  },
  'Health',
);

/** grpc.health.v1 Watch: every status the server streams, in order (as a load balancer sees them). */
export class HealthWatch {
  readonly statuses: string[] = [];
  readonly #client: Client;
  readonly #call: ClientReadableStream<Buffer>;

  constructor(address: string, service = '') {
    this.#client = new WatchClient(address, credentials.createInsecure());
    const request = Buffer.from(HealthRequest.encode(HealthRequest.create({ service })).finish());
    const watch = (this.#client as unknown as { Watch(bytes: Buffer): ClientReadableStream<Buffer> }).Watch;
    this.#call = watch.call(this.#client, request);
    this.#call.on('data', (bytes: Buffer) => {
      const answer = HealthResponse.toObject(HealthResponse.decode(bytes), { enums: String });
      this.statuses.push(String(answer['status']));
    });
    this.#call.on('error', () => {}); // cancelled by close(), or the server went away
  }

  get last(): string | undefined {
    return this.statuses.at(-1);
  }

  close(): void {
    this.#call.cancel();
    this.#client.close();
  }
}

let written = 0;

/** Replaces `file` in one rename, so a reload never reads it half written. */
export function writeAtomically(file: string, text: string, scratchDir: string): void {
  const next = join(scratchDir, `next-${process.pid}-${written++}.tmp`);
  writeFileSync(next, text);
  renameSync(next, file);
}
