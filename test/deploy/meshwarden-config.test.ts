// The meshwarden configurations and policies shipped for deployment are accepted by
// meshwarden's own loaders (the code `meshwarden serve` and `meshwarden check` run).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildConfig } from '../../src/config/build.js';
import { parseConfigText } from '../../src/config/load.js';
import { checkPolicies } from '../../src/policy/load/index.js';

const CONFIGS = [
  'k8s/base/config.yaml',
  'k8s/overlays/sidecar/config.yaml',
  'envoy/meshwarden/sidecar.yaml',
  'envoy/meshwarden/gateway.yaml',
  'envoy/meshwarden/spire.yaml',
  'k8s/overlays/spire/config.yaml',
];

function load(file: string): ReturnType<typeof buildConfig> {
  return buildConfig(parseConfigText(readFileSync(file, 'utf8'), file), path.dirname(path.resolve(file)));
}

describe('the shipped meshwarden configurations', () => {
  it.each(CONFIGS)('%s is valid for meshwarden serve', (file) => {
    expect(() => load(file)).not.toThrow();
  });

  it.each(CONFIGS)('%s fails closed by default', (file) => {
    expect((parse(readFileSync(file, 'utf8')) as { defaultAction: string }).defaultAction).toBe('DENY');
  });

  it('serves gRPC on a unix socket in the sidecar overlay and on 9191 elsewhere', () => {
    expect(load('k8s/overlays/sidecar/config.yaml').grpc.address).toBe('unix:/var/run/meshwarden/authz.sock');
    expect(load('k8s/base/config.yaml').grpc.address).toBe('0.0.0.0:9191');
  });

  it('verifies the peer certificate wherever Envoy is configured to send it', () => {
    const raw = (file: string): { identity?: { verifyPeerCertificate?: boolean } } => parse(readFileSync(file, 'utf8'));
    expect(raw('k8s/overlays/sidecar/config.yaml').identity?.verifyPeerCertificate).toBe(true);
    expect(raw('envoy/meshwarden/sidecar.yaml').identity?.verifyPeerCertificate).toBe(true);
  });

  it("reads jwt_authn's claims from the metadata namespace the gateway passes on", () => {
    const gateway = readFileSync('envoy/gateway.yaml', 'utf8');
    const raw = parse(readFileSync('envoy/meshwarden/gateway.yaml', 'utf8')) as { identity: { jwtAuthnMetadata: { filter: string } } };
    expect(gateway).toContain(`metadata_context_namespaces:\n                        - ${raw.identity.jwtAuthnMetadata.filter}`);
  });
});

describe('the shipped policies', () => {
  it.each(['k8s/base/policies', 'k8s/overlays/sidecar/policies'])('%s pass meshwarden check without errors or warnings', async (dir) => {
    const result = await checkPolicies([dir], { rootNamespace: 'istio-system' });
    expect({ errors: result.errors, warnings: result.warnings }).toEqual({ errors: [], warnings: [] });
    expect(result.policyCount).toBeGreaterThan(0);
  });
});
