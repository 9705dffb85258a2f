/** What the startRuntime tests share: a policy allowing one caller to `payments`, and a loopback config around it. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildConfig, type RawConfig } from '../../src/config/build.js';
import type { ServerConfig } from '../../src/config/index.js';

export const CALLER = 'spiffe://prod.example/ns/checkout/sa/checkout';
export const POLICY = `apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: payments }
spec:
  target: { services: [payments] }
  rules:
    - from: [{ source: { principals: ["${CALLER}"] } }]
`;

export const quiet = pino({ enabled: false });

/** `files` written into a new directory; gRPC on a loopback port, no admin, no decision log, no watch; `raw` on top. */
export function configWith(files: Record<string, string>, raw: RawConfig = {}): ServerConfig {
  const dir = mkdtempSync(join(tmpdir(), 'meshwarden-runtime-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const base: RawConfig = { grpc: { address: '127.0.0.1:0' }, admin: { address: 'off' }, policies: ['policy.yaml'], decisionLog: { output: 'off' }, reload: { watch: false } };
  return buildConfig({ ...base, ...raw }, dir);
}
