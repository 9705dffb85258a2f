/** The gRPC transports every transport-level suite runs against. */
import type { GrpcTransport } from '../../src/server/grpc/index.js';

export const TRANSPORTS: readonly GrpcTransport[] = ['native', 'grpc-js'];
