/**
 * The Check handler: CheckRequest → AccessRequest → (caller's CheckHandler) → Authorization →
 * CheckResponse. It never throws and answers exactly once; an unreadable request is
 * answered 400, a handler that throws or rejects is answered deny (`internal_error`), and
 * a handler that returns synchronously is answered synchronously (no promise tick).
 * Envoy's HTTP service (`checkHttp`) is the same Check: its request is read back into the
 * CheckRequest Envoy encoded it from, and the CheckResponse re-encoded as Envoy's HTTP client reads it.
 */
import { randomUUID } from 'node:crypto';
import type { AccessRequest, Authorization, Decision, ReasonCode } from '../domain/index.js';
import {
  checkRequestWithinLimits,
  decodeCheckRequest,
  DEFAULT_PRINCIPAL_HEADER,
  encodeCheckResponse,
  fromHttpServiceRequest,
  InvalidRequestError,
  toAccessRequest,
  toCheckResponse,
  toHttpServiceAnswer,
  type CheckRequestLimits,
  type CheckRequestMessage,
  type CheckResponseMessage,
  type HttpServiceAnswer,
  type HttpServiceOptions,
  type HttpServiceRequest,
  type InvalidRequestCode,
  type ResponseContext,
} from '../envoy/index.js';

/**
 * Stands for a request whose bytes did not decode. Decoding must not end the call with a
 * gRPC error: Envoy treats that as a failure of the authorization service (and lets the
 * request through under `failure_mode_allow`); this way the Check is still answered with a
 * CheckResponse (400).
 */
export const UNREADABLE_REQUEST: CheckRequestMessage = Object.freeze({});

/** Envoy's own defaults are 100 headers and 60 KiB of them; these leave room for an operator who raised those. */
export const DEFAULT_REQUEST_LIMITS: CheckRequestLimits = Object.freeze({
  headers: 1000,
  headerBytes: 256 * 1024,
  pathBytes: 64 * 1024,
  attributeBytes: 512 * 1024,
  // Envoy sets a handful of each; thousands cost the decoder milliseconds apiece
  contextEntries: 128,
  attributeFields: 256,
});

/**
 * One header of the call that carried a Check, read only when asked: gRPC metadata, where
 * Envoy puts the context of the span it traces its ext_authz call with.
 */
export interface CallHeaders {
  header(name: string): string | undefined;
}

/**
 * Traces of Checks (telemetry/ builds it). Absent, the service is built without it: a Check
 * runs no tracing code at all, and its call's headers are never read.
 */
export interface CheckTracing {
  /**
   * The span of one Check begins, `startedMs` a performance.now() reading; undefined when
   * there is nothing to trace. Never throws.
   */
  begin(call: CallHeaders | undefined, request: AccessRequest | undefined, startedMs: number): CheckSpan | undefined;
}

export interface CheckSpan {
  /** Runs the pipeline inside the span, so that identity's spans are its children. */
  run<T>(work: () => T): T;
  /** Ends the span with the answered result; returns that result carrying its trace ids. Never throws. */
  end(result: Authorization): Authorization;
}

/** The pipeline: its subject's SPIFFE ID goes upstream, and the whole result to `observe`. */
export type CheckHandler = (request: AccessRequest) => Authorization | Promise<Authorization>;

export interface AuthorizationServiceOptions {
  /** Upstream header carrying the caller's SPIFFE ID; default `x-meshwarden-principal`. */
  readonly principalHeader?: string;
  readonly decodeEncodedSlashes?: boolean;
  /** Bounds a request's bytes are held to before they are decoded (checkBytes); default DEFAULT_REQUEST_LIMITS. */
  readonly requestLimits?: CheckRequestLimits;
  /** Envoy's `http_service.path_prefix`, taken off the path of every checkHttp request; default ''. */
  readonly httpPathPrefix?: string;
  /** Ids of the decisions made here (invalid requests, internal errors); default random UUIDs. */
  readonly decisionIdFactory?: () => string;
  /** Told of every unexpected failure that was answered as a deny. Must not throw. */
  readonly onError?: (error: unknown) => void;
  /**
   * Told of every answer, for metrics and decision logs: the result as answered, the request
   * (absent for a 400 to a request that could not be read) and the time the Check took.
   */
  readonly observe?: (result: Authorization, request: AccessRequest | undefined, durationSeconds: number) => void;
  /** Traces of Checks; off when absent. */
  readonly tracing?: CheckTracing;
}

export interface AuthorizationService {
  /** One Check: `respond` is called exactly once, synchronously when it can be. */
  check(message: CheckRequestMessage | InvalidRequestError, respond: (response: CheckResponseMessage) => void, call?: CallHeaders): void;
  /** One Check on the wire: a CheckRequest's bytes in, a CheckResponse's bytes out, exactly once; `call`, its gRPC metadata. */
  checkBytes(request: Uint8Array, respond: (response: Uint8Array) => void, call?: CallHeaders): void;
  /** A Check the transport could not read (too large, malformed): answered 400 like any invalid request, logged and counted. */
  refuseBytes(code: 'request_too_large' | 'missing_http_attributes', detail: string, respond: (response: Uint8Array) => void): void;
  /** One Check from Envoy's HTTP service: the request as parsed in, the answer as Envoy reads it out, exactly once. */
  checkHttp(request: HttpServiceRequest, respond: (answer: HttpServiceAnswer) => void): void;
  /** An HTTP-service request the transport could not read (too large, malformed): answered 400 naming `attribute`, logged and counted. */
  refuseHttp(code: InvalidRequestCode, attribute: string, detail: string, respond: (answer: HttpServiceAnswer) => void): void;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const PATH_PREFIX = /^(\/[A-Za-z0-9._~-]+)*$/;

export function createAuthorizationService(handler: CheckHandler, options: AuthorizationServiceOptions = {}): AuthorizationService {
  const config = validated(options);
  // Chosen once: with tracing off, a Check is the untraced CheckCall and nothing else.
  const tracing = config.tracing;
  const check: AuthorizationService['check'] =
    tracing === undefined
      ? (message, respond) => new CheckCall(handler, config, respond).run(message)
      : (message, respond, call) => new TracedCheckCall(handler, config, respond, tracing, call).run(message);
  const checkBytes: AuthorizationService['checkBytes'] = (request, respond, call) => {
    check(readCheckRequest(request, config.requestLimits), (response) => respond(encodeCheckResponse(response)), call);
  };
  const refuseBytes: AuthorizationService['refuseBytes'] = (code, detail, respond) => {
    check(new InvalidRequestError(code, 'CheckRequest', detail), (response) => respond(encodeCheckResponse(response)));
  };
  const checkHttp: AuthorizationService['checkHttp'] = (request, respond) => {
    check(readHttpServiceRequest(request, config.http), (response) => respond(toHttpServiceAnswer(response)));
  };
  const refuseHttp: AuthorizationService['refuseHttp'] = (code, attribute, detail, respond) => {
    check(new InvalidRequestError(code, attribute, detail), (response) => respond(toHttpServiceAnswer(response)));
  };
  return { check, checkBytes, refuseBytes, checkHttp, refuseHttp };
}

/** Limits first, so nothing is decoded that the limits would refuse; a refusal is answered, never thrown. */
function readCheckRequest(bytes: Uint8Array, limits: CheckRequestLimits): CheckRequestMessage | InvalidRequestError {
  try {
    checkRequestWithinLimits(bytes, limits);
    return decodeCheckRequest(bytes);
  } catch (error) {
    return error instanceof InvalidRequestError ? error : UNREADABLE_REQUEST;
  }
}

/** As readCheckRequest: a request Envoy could not have sent is answered, never thrown. */
function readHttpServiceRequest(request: HttpServiceRequest, options: HttpServiceOptions): CheckRequestMessage | InvalidRequestError {
  try {
    return fromHttpServiceRequest(request, options);
  } catch (error) {
    return error instanceof InvalidRequestError ? error : UNREADABLE_REQUEST;
  }
}

interface Config {
  readonly principalHeader: string;
  readonly http: HttpServiceOptions;
  readonly requestLimits: CheckRequestLimits;
  readonly adapter: { readonly decodeEncodedSlashes: boolean };
  readonly newId: () => string;
  readonly onError: (error: unknown) => void;
  readonly observe: AuthorizationServiceOptions['observe'];
  readonly tracing: CheckTracing | undefined;
}

/** Misused options fail at start-up, with a TypeError. */
function validated(options: AuthorizationServiceOptions): Config {
  const principalHeader = (options.principalHeader ?? DEFAULT_PRINCIPAL_HEADER).toLowerCase();
  if (!HEADER_NAME.test(principalHeader)) throw new TypeError(`principalHeader is not a header name: "${principalHeader}"`);
  const pathPrefix = options.httpPathPrefix ?? '';
  if (!PATH_PREFIX.test(pathPrefix)) throw new TypeError(`httpPathPrefix is not "" or /segments without a trailing slash: "${pathPrefix}"`);
  return Object.freeze({
    principalHeader,
    http: Object.freeze({ pathPrefix }),
    requestLimits: options.requestLimits ?? DEFAULT_REQUEST_LIMITS,
    adapter: Object.freeze({ decodeEncodedSlashes: options.decodeEncodedSlashes === true }),
    newId: options.decisionIdFactory ?? randomUUID,
    onError: options.onError ?? (() => {}),
    observe: options.observe,
    tracing: options.tracing,
  });
}

/** One Check in flight: holds what the answer needs, and makes sure there is one answer. */
class CheckCall {
  readonly #handler: CheckHandler;
  readonly #config: Config;
  readonly #respond: (response: CheckResponseMessage) => void;
  /** performance.now(): a double, where hrtime.bigint() allocates a BigInt per reading. */
  protected readonly started = performance.now();
  protected request: AccessRequest | undefined;
  #requestId = '';
  #answered = false;

  constructor(handler: CheckHandler, config: Config, respond: (response: CheckResponseMessage) => void) {
    this.#handler = handler;
    this.#config = config;
    this.#respond = respond;
  }

  run(message: CheckRequestMessage | InvalidRequestError): void {
    try {
      this.request = this.#read(message);
    } catch (error) {
      this.begun();
      this.#requestId = message instanceof InvalidRequestError ? '' : requestIdOf(message);
      const decision = this.#refusal(error);
      this.#answer(this.#requestId === '' ? { decision } : { decision, requestId: this.#requestId });
      return;
    }
    this.begun();
    let result: Authorization | Promise<Authorization>;
    try {
      result = this.handle(this.request);
    } catch (error) {
      this.#answer({ decision: this.#internalError(error) });
      return;
    }
    if (isPromiseLike(result)) {
      result.then((settled) => this.#answer(settled), (error: unknown) => this.#answer({ decision: this.#internalError(error) }));
    } else {
      this.#answer(result);
    }
  }

  /** The request was read, or refused: a traced Check begins its span here. */
  protected begun(): void {}

  /** Runs the pipeline (a traced Check: inside its span). */
  protected handle(request: AccessRequest): Authorization | Promise<Authorization> {
    return this.#handler(request);
  }

  /** The result as answered, about to be observed (a traced Check: its span ends, its ids added). */
  protected finished(result: Authorization): Authorization {
    return result;
  }

  #read(message: CheckRequestMessage | InvalidRequestError): AccessRequest {
    if (message instanceof InvalidRequestError) throw message;
    if (message === UNREADABLE_REQUEST) {
      throw new InvalidRequestError('missing_http_attributes', 'CheckRequest', 'the request bytes are not a CheckRequest');
    }
    return toAccessRequest(message, this.#config.adapter);
  }

  #answer(result: Authorization): void {
    if (this.#answered) return;
    this.#answered = true;
    let response: CheckResponseMessage;
    try {
      response = toCheckResponse(result.decision, this.#context(this.#subjectPrincipal(result)));
    } catch (error) {
      // A result that cannot be turned into a response is answered as an internal-error deny.
      result = withDecision(result, this.#internalError(error));
      response = toCheckResponse(result.decision, this.#context(undefined));
    }
    this.#observe(this.finished(result));
    this.#respond(response);
  }

  /**
   * The pipeline's subject goes upstream; without a subject from the pipeline, the peer
   * principal Envoy verified in the mTLS handshake, when it is a SPIFFE ID.
   */
  #subjectPrincipal(result: Authorization): string | undefined {
    if (result.subject !== undefined) return result.subject.workload?.uri;
    const principal = this.request?.source.principal;
    return principal?.startsWith('spiffe://') ? principal : undefined;
  }

  #context(subjectPrincipal: string | undefined): ResponseContext {
    return { request: this.request, requestId: this.#requestId, principalHeader: this.#config.principalHeader, subjectPrincipal };
  }

  #observe(result: Authorization): void {
    const observe = this.#config.observe;
    if (!observe) return;
    try {
      observe(result, this.request, (performance.now() - this.started) / 1000);
    } catch (error) {
      this.#report(error);
    }
  }

  #refusal(error: unknown): Decision {
    if (!(error instanceof InvalidRequestError)) return this.#internalError(error);
    return this.#decision('invalid_request', error.code, `${error.attribute}: ${error.message}`);
  }

  #internalError(error: unknown): Decision {
    this.#report(error);
    return this.#decision('deny', 'internal_error', error instanceof Error ? error.message : String(error));
  }

  #decision(verdict: Decision['verdict'], reason: ReasonCode, detail: string): Decision {
    // Generation 0: no policy snapshot took part in this decision.
    return { id: this.#config.newId(), verdict, reason, generation: 0, detail };
  }

  #report(error: unknown): void {
    try {
      this.#config.onError(error);
    } catch {
      // The hook is told, never trusted: nothing it does may stop the answer.
    }
  }
}

/** A Check with tracing on: its span begins once the request is read, holds the pipeline, and ends with the answer. */
class TracedCheckCall extends CheckCall {
  readonly #tracing: CheckTracing;
  readonly #call: CallHeaders | undefined;
  #span: CheckSpan | undefined;

  constructor(handler: CheckHandler, config: Config, respond: (response: CheckResponseMessage) => void, tracing: CheckTracing, call: CallHeaders | undefined) {
    super(handler, config, respond);
    this.#tracing = tracing;
    this.#call = call;
  }

  protected override begun(): void {
    this.#span = this.#tracing.begin(this.#call, this.request, this.started);
  }

  protected override handle(request: AccessRequest): Authorization | Promise<Authorization> {
    const span = this.#span;
    return span === undefined ? super.handle(request) : span.run(() => super.handle(request));
  }

  protected override finished(result: Authorization): Authorization {
    return this.#span === undefined ? result : this.#span.end(result);
  }
}

/** What the handler established, kept, under the decision that was answered instead (it may be anything at all). */
function withDecision(result: unknown, decision: Decision): Authorization {
  if (typeof result !== 'object' || result === null) return { decision };
  const { subject, destination } = result as Partial<Authorization>;
  return { decision, ...(subject === undefined ? {} : { subject }), ...(destination === undefined ? {} : { destination }) };
}

/** Best effort, for the body of a 400: the request could not be read as a whole. */
function requestIdOf(message: CheckRequestMessage): string {
  const http = message.attributes?.request?.http;
  const fromHeader = http?.headers?.['x-request-id'];
  return typeof fromHeader === 'string' && fromHeader ? fromHeader : (http?.id ?? '');
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
