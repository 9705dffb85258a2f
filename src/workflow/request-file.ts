/**
 * One request file → the AccessRequest and Subject the engine would see. Two forms:
 * an AccessRequest in YAML/JSON (examples/requests/checkout-creates-charge.yaml), and
 * Envoy's CheckRequest in proto3 JSON (examples/requests/batch-reads-charges.json), which
 * goes through the real protobuf codec and Envoy adapter, exactly as a Check would.
 * Shared by `meshwarden explain` and `meshwarden test`.
 */
import type { Type } from 'protobufjs';
import { tryParseSpiffeId, type AccessRequest, type Subject } from '../domain/index.js';
import { InvalidRequestError, decodeCheckRequest, loadTrimmedProtos, toAccessRequest, type CheckRequestMessage } from '../envoy/index.js';
import { schemaIssues } from '../policy/index.js';
import { failOnIssues, parseLocatedYaml, placeIssue, readText, type LocatedYaml } from './located-yaml.js';
import { workflowValidators } from './request-schema.js';
import { buildAccessRequest, buildSubject, type RequestSpec } from './request-spec.js';
import { WorkflowError } from './workflow-error.js';

export type RequestForm = 'access-request' | 'check-request';

export interface RequestInput {
  readonly form: RequestForm;
  readonly request: AccessRequest;
  readonly subject: Subject;
}

export async function readRequestFile(file: string): Promise<RequestInput> {
  return parseRequestText(await readText(file), file);
}

/** Throws WorkflowError (`yaml_syntax`, `invalid_request`) naming file:line:col and field. */
export function parseRequestText(text: string, file: string): RequestInput {
  const yaml = parseLocatedYaml(text, file);
  return isCheckRequest(yaml.data) ? fromCheckRequest(yaml) : fromAccessRequest(yaml);
}

/** A CheckRequest is recognized by its top-level `attributes`, which an AccessRequest never has. */
function isCheckRequest(data: unknown): data is Record<string, unknown> {
  return typeof data === 'object' && data !== null && !Array.isArray(data) && 'attributes' in data;
}

function fromAccessRequest(yaml: LocatedYaml): RequestInput {
  const validate = workflowValidators().request;
  if (!validate(yaml.data)) failOnIssues(yaml, 'invalid_request', schemaIssues(validate.errors ?? [], yaml.data));
  const spec = yaml.data as RequestSpec;
  const request = buildAccessRequest(spec, []);
  failOnIssues(yaml, 'invalid_request', request.issues);
  const subject = buildSubject(undefined, spec, { subject: [], request: [] });
  failOnIssues(yaml, 'invalid_request', subject.issues);
  return { form: 'access-request', request: request.value!, subject: subject.value! };
}

let checkRequestType: Type | undefined;

/**
 * JSON → message with protobufjs `fromObject`, then encoded and decoded as the gRPC server
 * decodes it, so unset fields read as they would on the wire.
 */
function fromCheckRequest(yaml: LocatedYaml): RequestInput {
  checkRequestType ??= loadTrimmedProtos().lookupType('envoy.service.auth.v3.CheckRequest');
  let message: CheckRequestMessage;
  try {
    const bytes = checkRequestType.encode(checkRequestType.fromObject(yaml.data as Record<string, unknown>)).finish();
    message = decodeCheckRequest(bytes);
  } catch (error) {
    throw invalid(yaml, [], `not a CheckRequest: ${(error as Error).message}`);
  }
  let request: AccessRequest;
  try {
    request = toAccessRequest(message);
  } catch (error) {
    if (!(error instanceof InvalidRequestError)) throw error;
    throw invalid(yaml, attributePath(error.attribute), `${error.code}: ${error.message}`);
  }
  const principal = request.source.principal;
  const workload = principal === undefined ? undefined : tryParseSpiffeId(principal);
  const subject: Subject = workload ? { workload, workloadEvidence: 'mtls-principal' } : {};
  return { form: 'check-request', request, subject };
}

/** `attributes.request.http.path` → the field path in the JSON; header attributes stay at `headers`. */
function attributePath(attribute: string): (string | number)[] {
  if (attribute.startsWith('header:')) return ['attributes', 'request', 'http', 'headers'];
  return attribute.split('.').map((part) => part.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()));
}

function invalid(yaml: LocatedYaml, path: (string | number)[], message: string): WorkflowError {
  return new WorkflowError('invalid_request', [placeIssue(yaml, { code: 'invalid_value', path, message })]);
}
