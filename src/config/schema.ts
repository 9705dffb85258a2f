/**
 * JSON Schema of the configuration file. Unknown keys are errors: a misspelt key must not
 * silently fall back to a default (for example a misspelt `defaultAction`).
 */

const duration = {
  description: 'Milliseconds as a number, or a string such as "250ms", "10s", "5m", "1h".',
  oneOf: [
    { type: 'number', minimum: 0 },
    { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$' },
  ],
} as const;

const address = {
  type: 'string',
  description: '`host:port`, `[v6]:port`, or `unix:/path/to/socket`.',
  pattern: '^(unix:/.+|\\[[0-9a-fA-F:.]+\\]:[0-9]{1,5}|[^:\\s]+:[0-9]{1,5})$',
} as const;

const stringList = { type: 'array', items: { type: 'string', minLength: 1 } } as const;

const strictObject = (properties: Record<string, unknown>, required: string[] = []) =>
  ({ type: 'object', additionalProperties: false, properties, required }) as const;

/** A file key given beside grpc.tls.fromWorkloadApi: true. */
const notBesideSvid = {
  description: 'fromWorkloadApi takes the certificate, key and client CA from the Workload API: leave out cert, key and clientCa',
  not: {},
} as const;

const identity = strictObject({
  trustDomains: {
    type: 'object',
    propertyNames: { pattern: '^[a-z0-9._-]+$' },
    // exactly one of bundle, roots and bundleEndpoint: identity/ says which it found, by name
    additionalProperties: strictObject({
      bundle: { type: 'string' },
      roots: { type: 'string' },
      bundleEndpoint: strictObject(
        {
          url: { description: 'https:// URL of the SPIFFE bundle endpoint (SPIFFE Federation).', type: 'string', pattern: '^https://' },
          profile: { description: 'Endpoint profile: only https_web (TLS server auth, web PKI or caFile).', const: 'https_web' },
          caFile: { description: "PEM CA certificates that verify the endpoint's server, instead of the web PKI.", type: 'string', minLength: 1 },
          refreshHint: { ...duration, description: 'How often to poll when the bundle carries no spiffe_refresh_hint (default 5m).' },
          timeout: { ...duration, description: 'The whole fetch, connect to last byte (default 5s).' },
          maxBytes: { description: 'A longer answer is refused (default 1048576).', type: 'integer', minimum: 1024 },
        },
        ['url', 'profile'],
      ),
    }),
  },
  trustDomainAliases: {
    description: 'Trust-domain migration: a policy principal written for the key\'s domain also matches the same path in each listed (still trusted) domain.',
    type: 'object',
    propertyNames: { pattern: '^[a-z0-9._-]+$' },
    additionalProperties: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', pattern: '^[a-z0-9._-]+$' } },
  },
  workloadApi: strictObject({
    socket: {
      description: 'The SPIFFE Workload API: unix:/path, unix:///path, or tcp://IP:PORT with an IP address, not a name (default: SPIFFE_ENDPOINT_SOCKET).',
      type: 'string',
      pattern: '^(unix|tcp):',
    },
  }),
  verifyPeerCertificate: { type: 'boolean' },
  trustForwardedClientCert: { type: 'boolean' },
  jwtSvid: strictObject(
    { audiences: { ...stringList, minItems: 1 }, header: { type: 'string', minLength: 1 } },
    ['audiences'],
  ),
  precedence: { enum: ['mtls', 'jwt'] },
  issuers: {
    type: 'array',
    items: strictObject(
      {
        issuer: { type: 'string', minLength: 1 },
        audiences: { ...stringList, minItems: 1 },
        jwksUri: { type: 'string', pattern: '^https?://' },
        jwksFile: { type: 'string' },
        timeout: duration,
        cooldown: duration,
        maxAge: duration,
      },
      ['issuer', 'audiences'],
    ),
  },
  jwtAuthnMetadata: strictObject({
    enabled: { type: 'boolean' },
    filter: { type: 'string', minLength: 1 },
    payloadKey: { type: 'string', minLength: 1 },
  }),
  tokenCache: strictObject({ max: { type: 'integer', minimum: 1 }, maxTtl: duration }),
  maxTokenBytes: { type: 'integer', minimum: 256 },
  clockTolerance: duration,
});

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

/** An off-box decision-log sink; telemetry checks the URL, bounds and names at start-up. */
const decisionSink = strictObject(
  {
    type: { description: 'http: OPA decision-log upload (gzip JSON arrays); otlp: OTLP/HTTP logs.', enum: ['http', 'otlp'] },
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' },
    url: { type: 'string', pattern: '^https?://' },
    headers: stringMap,
    labels: stringMap,
    timeout: duration,
    batch: strictObject({ maxLines: { type: 'integer', minimum: 1 }, maxBytes: { type: 'integer', minimum: 1024 }, maxDelay: duration }),
    buffer: strictObject({ maxLines: { type: 'integer', minimum: 1 } }),
    retry: strictObject({ minDelay: duration, maxDelay: duration }),
    caFile: { description: "PEM CA certificates that verify an https url's server, instead of Node's public roots.", type: 'string', minLength: 1 },
  },
  ['type', 'url'],
);

/** A decision-log drop rule: every condition given must hold; a list matches any of its values. */
const oneOrMore = { oneOf: [{ type: 'string', minLength: 1 }, { ...stringList, minItems: 1 }] } as const;
const decisionDropRule = {
  ...strictObject(Object.fromEntries(['decision', 'reason', 'destination', 'source', 'method', 'path', 'pathPrefix', 'policy'].map((key) => [key, oneOrMore]))),
  minProperties: 1,
} as const;

export const CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'meshwarden server configuration',
  ...strictObject({
    grpc: strictObject({
      address,
      principalHeader: { type: 'string', pattern: '^[a-z0-9-]+$' },
      decodeEncodedSlashes: { type: 'boolean' },
      transport: { description: 'native (node:http2, the default) or grpc-js.', enum: ['native', 'grpc-js'] },
      keepalive: strictObject({ time: duration, timeout: duration }),
      maxConnectionAge: duration,
      maxConnectionAgeGrace: duration,
      maxConnectionIdle: duration,
      limits: strictObject({
        connections: { type: 'integer', minimum: 1 },
        streamsPerConnection: { type: 'integer', minimum: 1, maximum: 2147483647 },
        messageBytes: { type: 'integer', minimum: 1024 },
        bufferedBytes: { type: 'integer', minimum: 1024 },
        deadline: duration,
        headers: { type: 'integer', minimum: 1 },
        headerBytes: { type: 'integer', minimum: 1024 },
        pathBytes: { type: 'integer', minimum: 256 },
        attributeBytes: { type: 'integer', minimum: 1024 },
        contextEntries: { type: 'integer', minimum: 1 },
        attributeFields: { type: 'integer', minimum: 16 },
      }),
      tls: {
        ...strictObject(
          {
            cert: { type: 'string' },
            key: { type: 'string' },
            clientCa: { type: 'string' },
            fromWorkloadApi: {
              description: "Serve meshwarden's own X.509-SVID from the Workload API (identity.workloadApi), its trust bundle as client CA (mTLS); default false.",
              type: 'boolean',
            },
            allowedClientIds: {
              type: 'array',
              minItems: 1,
              items: { type: 'string', pattern: '^spiffe://', description: 'A client SPIFFE ID, spiffe://trust-domain/path.' },
            },
          },
        ),
        // the SVID brings certificate, key and client CA: files beside it would be ignored, so they are refused
        if: { properties: { fromWorkloadApi: { const: true } }, required: ['fromWorkloadApi'] },
        then: { properties: { cert: notBesideSvid, key: notBesideSvid, clientCa: notBesideSvid } },
        else: {
          required: ['cert', 'key'],
          // client IDs are read from verified client certificates: without a client CA there are none
          dependencies: { allowedClientIds: ['clientCa'] },
        },
      },
    }),
    http: strictObject({
      address: {
        description: "The HTTP ext_authz listener (Envoy's http_service): `host:port`, `[v6]:port`, `unix:/path/to/socket`, or \"off\" (the default).",
        oneOf: [address, { const: 'off' }],
      },
      pathPrefix: {
        description: "Envoy's http_service.path_prefix, taken off every request path: \"\" (the default) or segments such as \"/ext-authz\", no trailing slash.",
        type: 'string',
        pattern: '^(/[A-Za-z0-9._~-]+)*$',
      },
      maxConnectionIdle: duration,
      limits: strictObject({
        connections: { type: 'integer', minimum: 1 },
        headers: { type: 'integer', minimum: 1 },
        headerBytes: { type: 'integer', minimum: 1024 },
        bodyBytes: { type: 'integer', minimum: 1024 },
        bufferedBytes: { type: 'integer', minimum: 1024 },
        deadline: duration,
      }),
    }),
    admin: strictObject({
      address: { description: '`host:port`, `[v6]:port`, `unix:/path/to/socket`, or "off".', oneOf: [address, { const: 'off' }] },
      ui: { description: 'Serve the read-only live map at /ui (and its API); off by default.', type: 'boolean' },
    }),
    policies: stringList,
    shadowPolicies: stringList,
    defaultAction: { enum: ['ALLOW', 'DENY'] },
    rootNamespace: { type: 'string', minLength: 1 },
    maxBodyBytes: { description: 'Request bodies longer than this are not parsed: request.body.json[...] conditions treat them as unseen.', type: 'integer', minimum: 1 },
    identity,
    cache: strictObject({
      decisions: strictObject({
        enabled: { type: 'boolean' },
        max: { type: 'integer', minimum: 1 },
        ttl: duration,
      }),
      principals: strictObject({
        max: { description: 'Parsed SPIFFE IDs remembered, callers and destinations each, least recently used first out.', type: 'integer', minimum: 1 },
      }),
    }),
    decisionLog: strictObject({
      output: { type: 'string', minLength: 1 },
      allowSampleRate: { type: 'number', minimum: 0, maximum: 1 },
      maxLinesPerSecond: { type: 'integer', minimum: 1 },
      headers: stringList,
      format: { description: 'Field names of stdout/file lines: json (ours) or ecs (Elastic Common Schema).', enum: ['json', 'ecs'] },
      sinks: { type: 'array', items: decisionSink },
      mask: stringList,
      drop: { type: 'array', items: decisionDropRule },
    }),
    metrics: strictObject({
      perPolicy: { type: 'boolean' },
      flows: strictObject({ enabled: { type: 'boolean' }, maxSeries: { type: 'integer', minimum: 1 } }),
    }),
    flowGraph: strictObject({
      maxEdges: { type: 'integer', minimum: 1 },
      maxPathsPerEdge: { type: 'integer', minimum: 1 },
    }),
    reload: strictObject({ watch: { type: 'boolean' }, debounce: duration }),
    shutdown: strictObject({ drainTimeout: duration, notServingDelay: duration }),
    tracing: strictObject(
      {
        otlp: strictObject(
          {
            endpoint: { description: 'The OTLP/HTTP URL spans are POSTed to, e.g. http://otel-collector:4318/v1/traces.', type: 'string', pattern: '^https?://[^\\s]+$' },
            headers: { description: 'HTTP headers sent with each export (e.g. a collector API key).', type: 'object', additionalProperties: { type: 'string' } },
            timeout: duration,
            caFile: { description: "PEM CA certificates that verify an https endpoint's server, instead of Node's public roots.", type: 'string', minLength: 1 },
          },
          ['endpoint'],
        ),
        sampleRate: { description: 'Share of the traces starting here that are recorded, 0 to 1 (default 1); with parentBased, a Check under a remote parent follows its decision.', type: 'number', minimum: 0, maximum: 1 },
        parentBased: { description: "Follow the sampling decision of Envoy's span (default true).", type: 'boolean' },
      },
      ['otlp'],
    ),
    workers: {
      description: 'A number of worker processes from 1 to 256, or "auto" (one per CPU).',
      oneOf: [{ type: 'integer', minimum: 1, maximum: 256 }, { const: 'auto' }],
    },
  }),
} as const;
