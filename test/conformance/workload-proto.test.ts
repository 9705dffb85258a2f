/**
 * The vendored SPIFFE Workload API proto is go-spiffe's own, byte for byte. No npm package ships
 * it, so the reference is go-spiffe's module (pinned: GO_SPIFFE_VERSION) in the Go module cache,
 * which `.ci/run` downloads (`go mod download`), as building SPIRE does. Without it the comparison
 * is skipped with one line, except under CI: there a missing reference fails.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isCi } from '../helpers/envoy/envoy-binary.js';
import { GO_SPIFFE_VERSION, officialWorkloadProto } from '../helpers/go-spiffe-proto.js';

const VENDORED = path.resolve(__dirname, '../../proto/spiffe/workload/workload.proto');
const official = officialWorkloadProto();
const required = isCi();

if (official === undefined && !required) {
  console.log(`workload-proto: go-spiffe ${GO_SPIFFE_VERSION} is not in the Go module cache; drift check skipped`);
}

describe('the vendored workload.proto', () => {
  it.runIf(official !== undefined || required)(`is go-spiffe ${GO_SPIFFE_VERSION}'s, byte for byte`, () => {
    expect(official, `go-spiffe ${GO_SPIFFE_VERSION} is missing from the Go module cache`).toBeDefined();
    expect(readFileSync(VENDORED, 'utf8')).toBe(readFileSync(official!, 'utf8'));
  });

  it('declares the bundle streams the client reads', () => {
    const text = readFileSync(VENDORED, 'utf8');
    expect(text).toMatch(/rpc FetchX509Bundles\(X509BundlesRequest\) returns \(stream X509BundlesResponse\);/);
    expect(text).toMatch(/rpc FetchJWTBundles\(JWTBundlesRequest\) returns \(stream JWTBundlesResponse\);/);
  });
});
