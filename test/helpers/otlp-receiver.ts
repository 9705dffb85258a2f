/**
 * An OTLP/HTTP trace receiver on 127.0.0.1, as a collector would be: it takes POST /v1/traces
 * as OTLP/JSON (what @opentelemetry/exporter-trace-otlp-http sends) or OTLP protobuf (what
 * Envoy's OpenTelemetry tracer sends), keeps every span, and every body as it arrived, so a
 * test can say what never left the process. The protobuf side decodes with the fields of
 * opentelemetry-proto's trace.proto that the tests read (numbers and types as published:
 * opentelemetry/proto/collector/trace/v1/trace_service.proto, trace/v1/trace.proto); no
 * package here ships those protos.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

export interface ReceivedSpan {
  readonly service: string;
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly kind: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly status: { readonly code: number; readonly message: string };
}

const TRACE_PROTO = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { repeated Span spans = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  string name = 5; int32 kind = 6; repeated KeyValue attributes = 9; Status status = 15;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
`;
const ExportRequest = protobuf.parse(TRACE_PROTO, { keepCase: false }).root.lookupType('otlp.ExportTraceServiceRequest');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Every export body as received (protobuf bytes read as latin1), for leak checks. */
  readonly bodies: string[] = [];
  readonly #server: Server;
  readonly #waiters = new Set<() => void>();

  private constructor() {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        try {
          this.#take(body, request.headers['content-type'] ?? '');
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch (error) {
          response.writeHead(400).end(String(error));
        }
      });
    });
  }

  static async start(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver();
    receiver.#server.listen(0, '127.0.0.1');
    await once(receiver.#server, 'listening');
    return receiver;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/traces`;
  }

  spansOf(traceId: string): ReceivedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }

  /** Resolves once `count` spans match, or rejects after `timeoutMs` saying what did arrive. */
  async waitFor(match: (span: ReceivedSpan) => boolean, count = 1, timeoutMs = 15_000): Promise<ReceivedSpan[]> {
    const found = () => this.spans.filter(match);
    if (found().length >= count) return found();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`${found().length} of ${count} spans after ${timeoutMs} ms; received: ${this.spans.map((s) => `${s.service}:${s.name}`).join(', ')}`));
      }, timeoutMs);
      const check = () => {
        if (found().length < count) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(found());
      };
      this.#waiters.add(check);
    });
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #take(body: Buffer, contentType: string): void {
    this.bodies.push(body.toString('latin1'));
    const request = contentType.includes('json') ? (JSON.parse(body.toString('utf8')) as Json) : fromProtobuf(body);
    for (const resourceSpans of request['resourceSpans'] ?? []) {
      const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name'] ?? '');
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) this.spans.push(spanOf(service, span));
      }
    }
    for (const waiter of [...this.#waiters]) waiter();
  }
}

/** Decoded with ids turned from bytes into hex, as OTLP/JSON writes them. */
function fromProtobuf(body: Buffer): Json {
  const request = ExportRequest.toObject(ExportRequest.decode(body), { bytes: String, longs: Number }) as Json;
  for (const resourceSpans of request['resourceSpans'] ?? []) {
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        for (const field of ['traceId', 'spanId', 'parentSpanId']) span[field] = Buffer.from(span[field] ?? '', 'base64').toString('hex');
      }
    }
  }
  return request;
}

function spanOf(service: string, span: Json): ReceivedSpan {
  return {
    service,
    name: String(span.name),
    traceId: hex(span.traceId),
    spanId: hex(span.spanId),
    parentSpanId: hex(span.parentSpanId),
    traceState: String(span.traceState ?? ''),
    kind: Number(span.kind ?? 0),
    attributes: attributesOf(span.attributes),
    status: { code: Number(span.status?.code ?? 0), message: String(span.status?.message ?? '') },
  };
}

/** OTLP/JSON writes ids as hex; protobuf was read as hex above; an absent parent is ''. */
function hex(id: unknown): string {
  return typeof id === 'string' ? id.toLowerCase() : '';
}

function attributesOf(list: Json[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    const v = value ?? {};
    out[key] = v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.boolValue ?? v.doubleValue ?? '';
  }
  return out;
}
