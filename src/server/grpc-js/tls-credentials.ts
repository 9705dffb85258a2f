/**
 * grpc-js server credentials for the listener: plaintext, TLS, or mTLS (a client without a
 * certificate that chains to the client CA is refused in the handshake). TLS always goes
 * through grpc-js' certificate-provider credentials, fed by the TlsMaterialSource, so rotated
 * material reaches new connections without a restart; connections already open keep theirs.
 */
import { experimental, ServerCredentials } from '@grpc/grpc-js';
import { isMutualTls, isTlsMaterialSource, type GrpcServerOptions, type GrpcTlsMaterial, type TlsMaterialSource } from '../grpc/listener.js';

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

export interface ListenerCredentials {
  readonly credentials: ServerCredentials;
  /** Stops following the material source. */
  close(): void;
}

export function listenerCredentials(tls: GrpcServerOptions['tls']): ListenerCredentials {
  if (tls === undefined) return { credentials: ServerCredentials.createInsecure(), close: () => {} };
  const provider = new MaterialProvider(isTlsMaterialSource(tls) ? tls : fixedMaterial(tls), isMutualTls(tls));
  // grpc-js 1.14 names this function's parameters (ca, identity) but hands them to a
  // constructor that takes (identity, ca): the first is the identity provider. The TLS and
  // mTLS tests both fail if a later version swaps them.
  const credentials = experimental.createCertificateProviderServerCredentials(provider, provider.mutual ? provider : null, provider.mutual);
  return { credentials, close: () => provider.close() };
}

function fixedMaterial(material: GrpcTlsMaterial): TlsMaterialSource {
  return { current: material, onChange: () => () => {} };
}

/**
 * One provider for both roles: the server's certificate and key, and the client CA. Whether
 * clients must present a certificate is decided once, at start: a later material without a
 * client CA keeps the one in service rather than silently dropping client verification. A
 * source with no material yet (no SVID) tells its listeners nothing until it has some: grpc-js
 * closes connections until then.
 */
class MaterialProvider implements experimental.CertificateProvider {
  readonly mutual: boolean;
  #material: GrpcTlsMaterial | undefined;
  readonly #caListeners = new Set<CaListener>();
  readonly #identityListeners = new Set<IdentityListener>();
  readonly #unsubscribe: () => void;

  constructor(source: TlsMaterialSource, mutual: boolean) {
    this.#material = source.current;
    this.mutual = mutual;
    this.#unsubscribe = source.onChange((next) => this.#update(next));
  }

  close(): void {
    this.#unsubscribe();
  }

  /*
   * A new listener hears the material in service on the next microtask, not at once: grpc-js
   * subscribes its providers before it registers the watcher that installs their material in
   * the TLS server, so an update delivered synchronously would be lost.
   */
  addCaCertificateListener(listener: CaListener): void {
    this.#caListeners.add(listener);
    queueMicrotask(() => this.#caListeners.has(listener) && this.#material?.clientCa !== undefined && listener(this.#caUpdate()));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.#caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.add(listener);
    queueMicrotask(() => this.#identityListeners.has(listener) && this.#material !== undefined && listener(this.#identityUpdate()));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.delete(listener);
  }

  #update(next: GrpcTlsMaterial): void {
    const keptCa = this.#material?.clientCa;
    this.#material = this.mutual && next.clientCa === undefined && keptCa !== undefined ? { ...next, clientCa: keptCa } : next;
    if (this.mutual) for (const listener of this.#caListeners) listener(this.#caUpdate());
    for (const listener of this.#identityListeners) listener(this.#identityUpdate());
  }

  #caUpdate(): experimental.CaCertificateUpdate {
    return { caCertificate: this.#material!.clientCa! };
  }

  #identityUpdate(): experimental.IdentityCertificateUpdate {
    return { certificate: this.#material!.cert, privateKey: this.#material!.key };
  }
}
