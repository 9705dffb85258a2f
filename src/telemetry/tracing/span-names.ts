/** The names of meshwarden's spans, for searching a trace store (and for the tests that read spans). */
export const CHECK_SPAN_NAME = 'meshwarden.check';
export const VERIFICATION_SPAN_NAME = 'meshwarden.identity.verify';
export const KEY_SET_FETCH_SPAN_NAME = 'meshwarden.identity.jwks_fetch';
