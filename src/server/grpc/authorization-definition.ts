/** `envoy.service.auth.v3.Authorization` on the wire: its name and the Check method's path. */
export const AUTHORIZATION_SERVICE_NAME = 'envoy.service.auth.v3.Authorization';
export const CHECK_METHOD_PATH = `/${AUTHORIZATION_SERVICE_NAME}/Check`;
