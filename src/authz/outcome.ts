/**
 * One table from reason code to verdict for everything that is not a policy outcome,
 * so identity and request failures are classified in one place.
 */
import type { ReasonCode, Verdict } from '../domain/index.js';

const FAILURE_VERDICT: Partial<Record<ReasonCode, Verdict>> = {
  missing_http_attributes: 'invalid_request',
  missing_connection_attributes: 'invalid_request',
  invalid_sni: 'invalid_request',
  invalid_path: 'invalid_request',
  invalid_header: 'invalid_request',
  // Present but invalid credentials: 401 whatever the policy says.
  invalid_principal: 'unauthenticated',
  invalid_certificate: 'unauthenticated',
  invalid_token: 'unauthenticated',
  // Valid credentials that we refuse to trust, and infrastructure failures: 403.
  untrusted_trust_domain: 'deny',
  identity_conflict: 'deny',
  identity_unavailable: 'deny',
  internal_error: 'deny',
  not_ready: 'deny',
};

/** The verdict for a failure reason; anything unknown fails closed as a deny. */
export function failureVerdict(reason: ReasonCode): Verdict {
  return FAILURE_VERDICT[reason] ?? 'deny';
}
