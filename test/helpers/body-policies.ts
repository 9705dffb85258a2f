/**
 * The policies of the request-body suites (through Envoy, and the hostile corpus): POST /pay is
 * allowed unless its JSON says `"amount": 100000`, which a DENY reads; POST /small only when it
 * says `"amount": 10`, which an ALLOW reads.
 */
export const BODY_POLICIES = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: payments }
spec:
  action: ALLOW
  rules:
    - to: [{ operation: { methods: ["POST"], paths: ["/pay"] } }]
    - to: [{ operation: { methods: ["POST"], paths: ["/small"] } }]
      when: [{ key: "request.body.json[amount]", values: ["10"] }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-large-amounts }
spec:
  action: DENY
  rules:
    - to: [{ operation: { methods: ["POST"], paths: ["/pay"] } }]
      when: [{ key: "request.body.json[amount]", values: ["100000"] }]
`;
