// The deployment docs point only at files that exist, so a rename cannot leave a reader
// with a command that fails.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const DOCS = ['README.md', 'envoy/README.md', 'k8s/README.md', 'k8s/overlays/istio/README.md', 'docs/alerts.md'];

function pathsIn(text: string): string[] {
  return [...text.matchAll(/`((?:envoy|k8s|docs|test)\/[\w./-]+?)\/?`/g)].map((m) => m[1]!).filter((p) => !p.includes('*'));
}

describe('the deployment docs', () => {
  it.each(DOCS)('%s names only paths that exist', (doc) => {
    const missing = pathsIn(readFileSync(doc, 'utf8')).filter((p) => !existsSync(p));
    expect(missing).toEqual([]);
  });

  it('has the four deployment sections in the README', () => {
    const deployment = readFileSync('README.md', 'utf8').split(/^## Deployment$/m)[1]!.split(/^## /m)[0]!;
    const headings = [...deployment.matchAll(/^### (.+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual(['Run beside Envoy', 'Run in Kubernetes', 'Use with Istio', 'Scale out']);
  });

  it('is caught naming a file that does not exist', () => {
    expect(pathsIn('see `envoy/sidecars.yaml`').filter((p) => !existsSync(p))).toEqual(['envoy/sidecars.yaml']);
  });

  it('says what Run in Kubernetes needs first: the Prometheus Operator CRDs, and an image you build (it is not published)', () => {
    const section = readFileSync('README.md', 'utf8').split(/^### Run in Kubernetes$/m)[1]!.split(/^### /m)[0]!;
    expect(section).toMatch(/Prometheus Operator's CRDs/);
    expect(section).toMatch(/no matches for kind "ServiceMonitor"/);
    expect(readFileSync('README.md', 'utf8')).toMatch(/The image is not published: build it/);
  });

  it('says the Istio provider must be merged with the operator\'s own IstioOperator or Helm values', () => {
    const section = readFileSync('README.md', 'utf8').split(/^### Use with Istio$/m)[1]!.split(/^### /m)[0]!;
    expect(section).toContain('istioctl install -f your-istio-operator.yaml -f k8s/overlays/istio/istio-operator.yaml');
    expect(section).toMatch(/replace lists\s+rather than merge them/);
  });
});

/** Every file under k8s/, for the Markdown files its comments name. */
function k8sFiles(dir = 'k8s'): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? k8sFiles(full) : [full];
  });
}

describe('the manifests', () => {
  it.each(k8sFiles().filter((f) => /\.(ya?ml|sh)$/.test(f)))('%s names only Markdown files that exist', (file) => {
    const named = [...readFileSync(file, 'utf8').matchAll(/([\w./-]*[\w-]+\.md)\b/g)].map((m) => m[1]!);
    const missing = named.filter((doc) => !existsSync(doc) && !existsSync(path.join(path.dirname(file), doc)));
    expect(missing).toEqual([]);
  });
});
