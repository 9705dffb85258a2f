/**
 * One Check over gRPC, as a client: @grpc/grpc-js with the service and messages loaded by
 * @grpc/proto-loader from the protos this package ships (proto/), so what `meshwarden call`
 * sends is encoded by a stack other than the server's own codec.
 */
import { readFile } from 'node:fs/promises';
import {
  credentials,
  loadPackageDefinition,
  status,
  type ChannelCredentials,
  type Client,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { EXT_AUTHZ_PROTO, PROTO_DIR } from '../envoy/index.js';
import { CliUsageError } from './usage.js';

export interface TlsFiles {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** The CheckResponse as proto-loader decodes it: camelCase fields, only those set. */
export type CheckAnswer = Record<string, unknown>;

export class NoAnswerError extends Error {
  override readonly name = 'NoAnswerError';
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

type AuthorizationClient = Client & {
  Check(request: object, options: { deadline: number }, callback: (error: ServiceError | null, answer?: CheckAnswer) => void): void;
};

export async function sendCheck(server: string, request: object, tls: TlsFiles, timeoutMs: number): Promise<CheckAnswer> {
  const Authorization = authorizationService();
  const client = new Authorization(server, await channelCredentials(tls)) as unknown as AuthorizationClient;
  try {
    return await new Promise<CheckAnswer>((resolve, reject) => {
      client.Check(request, { deadline: Date.now() + timeoutMs }, (error, answer) => {
        if (error !== null || answer === undefined) reject(noAnswer(server, error, tls));
        else resolve(answer);
      });
    });
  } finally {
    client.close();
  }
}

function authorizationService(): ServiceClientConstructor {
  const definition = loadSync(EXT_AUTHZ_PROTO, { includeDirs: [PROTO_DIR], keepCase: false, longs: Number, defaults: false, oneofs: true });
  const root = loadPackageDefinition(definition) as unknown as { envoy: { service: { auth: { v3: { Authorization: ServiceClientConstructor } } } } };
  return root.envoy.service.auth.v3.Authorization;
}

async function channelCredentials(tls: TlsFiles): Promise<ChannelCredentials> {
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new CliUsageError('--cert and --key go together: the certificate and its private key');
  if (tls.ca === undefined && tls.cert === undefined) return credentials.createInsecure();
  // grpc-js names an IP address as the TLS server name, which Node flags as deprecated: a
  // warning about grpc-js's internals that a user of this command can do nothing about
  process.noDeprecation = true;
  const [ca, cert, key] = await Promise.all([tls.ca, tls.cert, tls.key].map((file) => (file === undefined ? undefined : readTlsFile(file))));
  return credentials.createSsl(ca ?? null, key ?? null, cert ?? null);
}

async function readTlsFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new CliUsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

function tlsHint(tls: TlsFiles): string {
  if (tls.ca === undefined) return 'If its listener has TLS, pass --ca (and --cert with --key for mTLS).';
  if (tls.cert === undefined) return 'If its listener asks for a client certificate (mTLS), pass --cert and --key.';
  return 'Does --ca hold the CA that signed its certificate, and does that certificate name the address you dial?';
}

/** What went wrong, and what to try. */
function noAnswer(server: string, error: ServiceError | null, tls: TlsFiles): NoAnswerError {
  if (error === null) return new NoAnswerError(status.INTERNAL, `${server} sent no CheckResponse`);
  const code = status[error.code] ?? String(error.code);
  const said = `no answer from ${server}: ${code}: ${error.details}`;
  switch (error.code) {
    case status.UNAVAILABLE:
      return new NoAnswerError(error.code, `${said}\nIs meshwarden serving there (npm start serves 127.0.0.1:9191)? ${tlsHint(tls)}`);
    case status.DEADLINE_EXCEEDED:
      return new NoAnswerError(error.code, `${said}\nThe server did not answer in time; a longer --timeout, or check that the address is meshwarden's gRPC listener.`);
    case status.PERMISSION_DENIED:
      return new NoAnswerError(error.code, `${said}\nThe listener refused this client: present a certificate whose SPIFFE ID grpc.tls.allowedClientIds lists (--cert, --key).`);
    default:
      return new NoAnswerError(error.code, said);
  }
}
