/**
 * An admin server on loopback with the live map on, in process, serving a real snapshot of a
 * small policy set through the what-if the CLI wires in: for the tests of the map's API. The
 * policies hold a value (`POLICY_VALUE`) no answer may ever carry.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createUiAnalysis } from '../../../src/cli/admin-ui-analysis.js';
import { startAdminServer, type AdminServer, type AdminUiOptions } from '../../../src/server/admin/index.js';
import { PolicyReloader } from '../../../src/server/policy-reloader.js';
import { tempDir } from '../../helpers/server-process.js';

export const GUEST = 'spiffe://prod.example/ns/guest/sa/browser';
export const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';
/** Text that only the policy file holds: it must never come back in an answer. */
export const POLICY_VALUE = 'x-internal-canary-7f3a';

export const POLICY = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: payments-api }
spec:
  target: { services: ["payments"] }
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["${CHECKOUT}"] } }]
      to: [{ operation: { methods: ["POST"], paths: ["/v1/charges"] } }]
      when: [{ key: "request.headers[x-api-key]", values: ["${POLICY_VALUE}"] }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: no-guests }
spec:
  action: DENY
  rules:
    - from: [{ source: { namespaces: ["guest"] } }]
      when: [{ key: "request.headers[${POLICY_VALUE}]", values: ["${POLICY_VALUE}"] }]
    - from: [{ source: { namespaces: ["guest"] } }]
`;

const running: AdminServer[] = [];
const reloaders: PolicyReloader[] = [];

/** For afterEach: every server and reloader started since. */
export async function stopLiveMapAdmins(): Promise<void> {
  await Promise.all(running.splice(0).map((server) => server.close()));
  reloaders.splice(0).forEach((reloader) => reloader.close());
}

async function snapshotSource(): Promise<PolicyReloader> {
  const file = join(tempDir('meshwarden-ui-api-'), 'policy.yaml');
  writeFileSync(file, POLICY);
  const reloader = new PolicyReloader({ paths: [file], engine: { defaultAction: 'DENY', rootNamespace: 'istio-system' }, debounceMs: 50 });
  reloaders.push(reloader);
  const result = await reloader.reload();
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return reloader;
}

/** The admin server's `host:port`; `ui` 'off' leaves the map out (admin.ui's default). */
export async function startLiveMapAdmin(ui: Partial<AdminUiOptions> | 'off'): Promise<string> {
  const policies = await snapshotSource();
  const server = await startAdminServer({
    address: '127.0.0.1:0',
    metrics: async () => '',
    contentType: 'text/plain',
    health: () => ({ live: true, ready: true }),
    policyInfo: () => ({}),
    flows: async () => ({ edges: [], overflow: { edges: 0 } }),
    ui: ui === 'off' ? undefined : { snapshot: () => policies.current, analysis: createUiAnalysis(), ...ui },
  });
  running.push(server);
  return server.address;
}
