/**
 * The `tracing` key: off unless present, defaults once present, located errors for what the
 * schema refuses; and off means off on the Check path: no call metadata is read.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/build.js';
import { ConfigError, parseConfigText } from '../../src/config/load.js';
import { createAuthorizationService, type CallHeaders } from '../../src/check/index.js';
import type { Authorization } from '../../src/domain/index.js';
import { encodeOfficial } from '../helpers/official-protos.js';
import { httpCheck } from '../helpers/check-client.js';

const problems = (text: string): readonly string[] => {
  try {
    parseConfigText(text, 'meshwarden.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('the tracing config', () => {
  it('is off when absent', () => {
    expect(buildConfig(parseConfigText('policies: []\n', 'meshwarden.yaml'), '/').tracing).toBeUndefined();
  });

  it('takes an endpoint and defaults the rest: headers none, timeout 10 s, every root sampled, parent-based', () => {
    const raw = parseConfigText('tracing: { otlp: { endpoint: "http://127.0.0.1:4318/v1/traces" } }\n', 'meshwarden.yaml');
    expect(buildConfig(raw, '/').tracing).toEqual({
      otlp: { endpoint: 'http://127.0.0.1:4318/v1/traces', headers: {}, timeoutMs: 10_000 },
      sampleRate: 1,
      parentBased: true,
    });
  });

  it('refuses tracing without an OTLP endpoint, naming the line', () => {
    expect(problems('tracing: { sampleRate: 0.5 }\n').join('\n')).toMatch(/meshwarden\.yaml:1:.*otlp/);
  });

  it('refuses an endpoint that is not an http(s) URL, and a sample rate above 1', () => {
    expect(problems('tracing: { otlp: { endpoint: "collector:4318" } }\n')).not.toEqual([]);
    expect(problems('tracing: { otlp: { endpoint: "http://c:4318/v1/traces" }, sampleRate: 1.5 }\n')).not.toEqual([]);
  });
});

describe('the Check path with tracing off', () => {
  it('never reads the call metadata', () => {
    let reads = 0;
    const call: CallHeaders = {
      header: () => {
        reads++;
        return '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      },
    };
    const allow: Authorization = { decision: { id: 'd', verdict: 'allow', reason: 'policy_allow', generation: 1 } };
    let observed: Authorization | undefined;
    const service = createAuthorizationService(() => allow, { observe: (result) => (observed = result) });
    let answered = 0;
    service.checkBytes(encodeOfficial('envoy.service.auth.v3.CheckRequest', httpCheck({ path: '/' })), () => answered++, call);
    expect(answered).toBe(1);
    expect(reads).toBe(0);
    expect(observed).toBe(allow); // handed on as it came: no trace ids, no copy
  });
});
