// The deployment docs point only at files that exist, so a rename cannot leave a reader
// with a command that fails.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const DOCS = ['README.md', 'envoy/README.md', 'k8s/README.md', 'k8s/overlays/istio/README.md'];

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
});
