/**
 * The methods meshwarden serves, by gRPC path, the same table for every transport:
 * Authorization/Check and grpc.health.v1 Check and Watch.
 */
import type { AuthorizationService } from '../../check/index.js';
import { CHECK_METHOD_PATH } from './authorization-definition.js';
import type { GrpcCall, GrpcMethodHandler } from './grpc-call.js';
import { GrpcStatus, type GrpcStatusCode } from './grpc-status.js';
import { HEALTH_CHECK_PATH, HEALTH_WATCH_PATH, type HealthReporter } from './health.js';

export type MethodTable = ReadonlyMap<string, GrpcMethodHandler>;

export function methodTable(authorization: AuthorizationService, health: HealthReporter): MethodTable {
  return new Map<string, GrpcMethodHandler>([
    [CHECK_METHOD_PATH, checkHandler(authorization)],
    [HEALTH_CHECK_PATH, health.check],
    [HEALTH_WATCH_PATH, health.watch],
  ]);
}

function checkHandler(authorization: AuthorizationService): GrpcMethodHandler {
  const handler = (request: Buffer, call: GrpcCall) => authorization.checkBytes(request, (response) => call.reply(response), call);
  // A refused Check is denied with a CheckResponse (400), never failed open.
  const answerRefusal = (code: GrpcStatusCode, message: string, respond: (response: Uint8Array) => void) =>
    authorization.refuseBytes(code === GrpcStatus.RESOURCE_EXHAUSTED ? 'request_too_large' : 'missing_http_attributes', message, respond);
  return Object.assign(handler, { answerRefusal });
}
