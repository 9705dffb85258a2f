/**
 * `meshwarden explain --config` with identity.trustDomainAliases: a caller of the aliased
 * domain (trusted through its own roots) is allowed by a policy written for the key domain and
 * denied by a DENY written for it; the trace and the answer keep the presented SPIFFE ID.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { explainCommand } from '../../src/cli/explain.js';
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
