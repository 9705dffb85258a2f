/** The one-policy mesh of the process tests: `orders` takes any request from one caller. */
export const CART = 'spiffe://prod.example/ns/shop/sa/cart';
export const BATCH = 'spiffe://prod.example/ns/shop/sa/batch';

export const ordersAllowing = (principal: string): string => `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: orders }
spec:
  target: { services: ["orders"] }
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["${principal}"] } }]
`;
