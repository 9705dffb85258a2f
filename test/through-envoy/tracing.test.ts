/**
 * One request, one trace, through a real Envoy: Envoy's OpenTelemetry tracer and meshwarden
 * export to the same OTLP/HTTP receiver on loopback, and meshwarden's Check span is the child
 * of the span Envoy traces its ext_authz call with (the gRPC call's metadata carries its
 * traceparent; over the HTTP service, the request to meshwarden does). The decision line of
 * that Check names the same trace. Envoy's tracing is the README's snippet, as documented.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../helpers/server-process.js';
import {
  appCluster,
  bootstrap,
  extAuthzFilter,
  extAuthzHttpFilter,
  HTTP_PATH_PREFIX,
  httpListener,
  meshwardenCluster,
  meshwardenHttpCluster,
} from '../helpers/envoy/bootstrap.js';
import { describeWithEnvoy } from '../helpers/envoy/describe-with-envoy.js';
import { loopback } from '../helpers/envoy/envoy-process.js';
import { send } from '../helpers/envoy/http-client.js';
import { TRANSPORTS, startStack, type Stack } from '../helpers/envoy/stack.js';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { CHECK_SPAN_NAME } from '../../src/telemetry/index.js';

type Json = Record<string, unknown>;

const POLICIES = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: status-for-anyone }
spec:
  target: { services: ["status"] }
  action: ALLOW
  rules: [{ to: [{ operation: { methods: ["GET"], paths: ["/status"] } }] }]
`;
const ROUTES = [{ name: 'status', match: { path: '/status' }, service: 'status' }];

/** The HCM `tracing` block the README's Traces section tells operators to add, as written there. */
function documentedTracing(): Json {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Traces'));
  const block = /Envoy's side, in its HTTP connection manager[^\n]*\n\n```yaml\n([\s\S]*?)```/.exec(section);
  if (block === null) throw new Error("README.md's Traces section has no Envoy snippet");
  return (parse(block[1]!) as { tracing: Json }).tracing;
}

/**
 * Envoy's HTTP connection manager traced with the README's snippet, pointed at the receiver
 * and sampling every request (the snippet says 1 %).
 */
function traced(listener: Json): Json {
  const chains = listener['filter_chains'] as Json[];
  const hcm = (chains[0]!['filters'] as Json[])[0]!['typed_config'] as Json;
  const tracing = documentedTracing();
  tracing['random_sampling'] = { value: 100 };
  const config = (tracing['provider'] as Json)['typed_config'] as { http_service: { http_uri: Json } };
  config.http_service.http_uri = { ...config.http_service.http_uri, uri: 'http://127.0.0.1/v1/traces', cluster: 'otlp' };
  hcm['tracing'] = tracing;
  return listener;
}

function otlpCluster(port: number): Json {
  return {
    name: 'otlp',
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: { cluster_name: 'otlp', endpoints: [{ lb_endpoints: [{ endpoint: { address: loopback(port) } }] }] },
  };
}

describeWithEnvoy.each(TRANSPORTS)('one trace from Envoy into meshwarden (meshwarden on %s)', (transport) => {
  let stack: Stack;
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    stack = await startStack({
      transport,
      meshwardenConfig: [
        'policies: [./policies.yaml]',
        `http: { address: "127.0.0.1:0", pathPrefix: "${HTTP_PATH_PREFIX}" }`,
        `tracing: { otlp: { endpoint: "${receiver.url}", timeout: 2s } }`,
      ].join('\n'),
      files: { 'policies.yaml': POLICIES },
      envoy: ({ grpc, http, upstream }) => ({
        ...bootstrap({
          listeners: [
            traced(httpListener({ name: 'grpc', routes: ROUTES, filters: [extAuthzFilter()] })),
            traced(httpListener({ name: 'http', routes: ROUTES, filters: [extAuthzHttpFilter()] })),
          ],
          clusters: [appCluster(upstream), meshwardenCluster(grpc), meshwardenHttpCluster(http), otlpCluster(receiver.port)],
        }),
        // Envoy exports as soon as it holds one span, not five (its default), so no test waits on its 5 s timer
        layered_runtime: { layers: [{ name: 'static', static_layer: { 'tracing.opentelemetry.min_flush_spans': 1 } }] },
      }),
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  /** One request Envoy answered, and meshwarden's decision line for it. */
  const request = async (listener: string): Promise<Json> => {
    const before = stack.meshwarden.decisions.length;
    const answer = await send(stack.port(listener), '/status');
    expect(answer.status).toBe(200);
    return nextDecision(before);
  };

  /** The trace a decision line names: meshwarden's Check span and the spans of Envoy in it. */
  const traceOf = async (line: Json) => {
    const traceId = String(line['trace_id']);
    const [check] = await receiver.waitFor((span) => span.traceId === traceId && span.name === CHECK_SPAN_NAME && span.service === 'meshwarden');
    const envoy = await receiver.waitFor((span) => span.traceId === traceId && span.service === 'envoy', 2);
    return { line, check: check!, envoy };
  };

  /** The decision line after the first `count`; the requests of this file go one at a time. */
  const nextDecision = async (count: number): Promise<Json> => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const line = stack.meshwarden.decisions[count];
      if (line !== undefined) return line;
      await new Promise((resolve) => setTimeout(resolve, 50)); // the harness offers no event per stdout line
    }
    throw new Error(`no decision line after the first ${count}`);
  };

  const expectChildOfExtAuthz = (check: ReceivedSpan, envoy: readonly ReceivedSpan[]) => {
    const parent = envoy.find((span) => span.spanId === check.parentSpanId);
    expect(parent, `Envoy spans: ${envoy.map((s) => `${s.name} ${s.spanId}<-${s.parentSpanId}`).join('; ')}`).toBeDefined();
    // the ext_authz call's own span, itself under the span of the request Envoy received
    const ingress = envoy.find((span) => span.spanId === parent!.parentSpanId);
    expect(ingress?.parentSpanId).toBe('');
    return parent!;
  };

  it("puts meshwarden's Check span under the span of Envoy's gRPC ext_authz call, in the request's one trace", async () => {
    const { line, check, envoy } = await traceOf(await request('grpc'));
    const parent = expectChildOfExtAuthz(check, envoy);
    expect(parent.name).toContain('envoy.service.auth.v3.Authorization');
    expect(check.attributes).toMatchObject({ 'meshwarden.decision': 'allow', 'meshwarden.destination': 'status' });
    expect(line['span_id']).toBe(check.spanId);
  });

  it("puts meshwarden's Check span under the span of Envoy's HTTP ext_authz call", async () => {
    const { line, check, envoy } = await traceOf(await request('http'));
    expectChildOfExtAuthz(check, envoy);
    expect(line['span_id']).toBe(check.spanId);
  });

  it('gives every request a trace of its own', async () => {
    const lines = [await request('grpc'), await request('grpc')];
    const [first, second] = await Promise.all(lines.map(traceOf));
    expect(first!.check.traceId).not.toBe(second!.check.traceId);
  });
});
