/**
 * The caller as the server's identity stage would resolve it from a request, with the identity
 * settings of the server's config: trust domains, JWT-SVID and OIDC issuers, jwt_authn metadata.
 * A credential that is present but invalid makes the server answer 401 whatever the policy says.
 */
import type { AccessRequest, Subject } from '../domain/index.js';
import { createIdentityResolver, IdentityError, type IdentityOptions } from '../identity/index.js';

export type ResolvedCaller =
  | { readonly ok: true; readonly subject: Subject }
  | { readonly ok: false; readonly code: string; readonly message: string };

export async function resolveCaller(identity: IdentityOptions | undefined, baseDir: string, request: AccessRequest): Promise<ResolvedCaller> {
  const resolver = await createIdentityResolver(identity, { baseDir, watch: false });
  try {
    return { ok: true, subject: await resolver.resolve(request) };
  } catch (error) {
    if (!(error instanceof IdentityError)) throw error;
    return { ok: false, code: error.code, message: error.message };
  } finally {
    resolver.close();
  }
}
