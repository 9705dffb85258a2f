/**
 * `meshwarden explain --config` with identity.trustDomainAliases: a caller of the aliased
 * domain (trusted through its own roots) is allowed by a policy written for the key domain and
 * denied by a DENY written for it; the trace and the answer keep the presented SPIFFE ID.
 * `reach` and `verify` take the same --config, and count the aliased twin as the server would.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { explainCommand } from '../../src/cli/explain.js';
import { reachCommand } from '../../src/cli/reach.js';
import { verifyCommand } from '../../src/cli/verify.js';
import { REPO_ROOT } from '../helpers/server-process.js';
import { TestPki } from '../identity/helpers/pki.js';
import { capture } from './capture.js';

const POLICIES = join(REPO_ROOT, 'test/fixtures/alias-migration-policies.yaml');
const TWIN = 'spiffe://old-td.example/ns/shop/sa/cart';
let dir: string;

beforeAll(() => {
  const pki = new TestPki();
  dir = mkdtempSync(join(tmpdir(), 'mw-alias-explain-'));
  writeFileSync(join(dir, 'old-td.pem'), pki.root('old-td-root', 'old-td.example').pem);
  writeFileSync(join(dir, 'orders.yaml'), requestTo('/v1/orders'));
  writeFileSync(join(dir, 'admin.yaml'), requestTo('/admin/users'));
  writeFileSync(join(dir, 'segments.yaml'), ONLY_CART_READS_ORDERS);
});

function requestTo(path: string): string {
  return `method: GET\npath: ${path}\nhost: orders\nsource: { principal: "${TWIN}", address: 10.0.0.7 }\ncontextExtensions: { service: orders }\n`;
}

function config(aliases: boolean): string {
  const file = join(dir, aliases ? 'with-aliases.yaml' : 'without-aliases.yaml');
  const aliasLines = aliases ? '  trustDomainAliases:\n    cluster.local: [old-td.example]\n' : '';
  writeFileSync(file, `policies: ["${POLICIES}"]\nidentity:\n  trustDomains:\n    old-td.example: { roots: old-td.pem }\n${aliasLines}`);
  return file;
}

const ONLY_CART_READS_ORDERS = `invariants:
  - name: only the cart of cluster.local reads orders
    only:
      callers: ["spiffe://cluster.local/ns/shop/sa/cart"]
      may: { methods: [GET] }
      on: orders
`;

const explain = (configFile: string, request: string) => capture(explainCommand, ['--config', configFile, '--request', join(dir, request), '--json']);

describe('meshwarden explain with trust-domain aliases', () => {
  it('allows the aliased caller by a policy written for the key domain, and denies it without the alias', async () => {
    const allowed = await explain(config(true), 'orders.yaml');
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ evaluation: { effect: 'allow', reason: 'policy_allow', by: { policy: 'cart-reads-orders' } } });
    const denied = await explain(config(false), 'orders.yaml');
    expect(JSON.parse(denied.stdout)).toMatchObject({ evaluation: { effect: 'deny', reason: 'default_deny' } });
  });

  it('denies the aliased caller by a DENY written for the key domain', async () => {
    const run = await explain(config(true), 'admin.yaml');
    expect(JSON.parse(run.stdout)).toMatchObject({ evaluation: { effect: 'deny', reason: 'policy_deny', by: { policy: 'no-cart-on-admin' } } });
  });
});

describe('meshwarden reach and verify with the trust-domain aliases of --config', () => {
  it('reach lists the aliased twin beside the caller the policy names, and not without the alias', async () => {
    const callers = async (configFile: string) => {
      const run = await capture(reachCommand, [POLICIES, '--to', 'orders', '--config', configFile, '--json']);
      expect(run.code).toBe(0);
      return JSON.parse(run.stdout).entries.map((e: { caller: { principal?: string } }) => e.caller.principal);
    };
    expect(await callers(config(true))).toEqual(['spiffe://cluster.local/ns/shop/sa/cart', TWIN]);
    expect(await callers(config(false))).toEqual(['spiffe://cluster.local/ns/shop/sa/cart']);
  });

  it('verify refutes "only the cart of cluster.local" once the alias lets its twin in, with the twin as counterexample', async () => {
    const verify = (configFile: string) => capture(verifyCommand, [POLICIES, '--invariants', join(dir, 'segments.yaml'), '--config', configFile, '--json']);
    const refuted = await verify(config(true));
    expect(refuted.code).toBe(1);
    expect(refuted.stdout).toContain(TWIN);
    const proven = await verify(config(false));
    expect(proven.code).toBe(0);
    expect(proven.stdout).not.toContain(TWIN);
  });
});
