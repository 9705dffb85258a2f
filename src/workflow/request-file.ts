/**
 * One request file → the AccessRequest and Subject the engine would see. Three forms:
 * an AccessRequest in YAML/JSON (examples/requests/checkout-creates-charge.yaml); Envoy's
 * CheckRequest in proto3 JSON (examples/requests/batch-reads-charges.json), which goes through
 * the real protobuf codec and Envoy adapter, exactly as a Check would; and one line of the
 * decision log, replayed as `diff` replays it. `-` reads standard input.
 * Shared by `meshwarden explain` and `meshwarden test`.
 */
import type { Type } from 'protobufjs';
import { tryParseSpiffeId, type AccessRequest, type Subject } from '../domain/index.js';
import { InvalidRequestError, decodeCheckRequest, loadTrimmedProtos, toAccessRequest, type CheckRequestMessage } from '../envoy/index.js';
import { schemaIssues } from '../policy/index.js';
import { failOnIssues, parseLocatedYaml, placeIssue, readText, type LocatedYaml } from './located-yaml.js';
import { workflowValidators } from './request-schema.js';
import { buildAccessRequest, buildSubject, type RequestSpec } from './request-spec.js';
import { parseDecisionLog } from './decision-log-reader.js';
import { replayRequest } from './replay.js';
import { WorkflowError, fileIssue } from './workflow-error.js';

export type RequestForm = 'access-request' | 'check-request' | 'decision-line';

export interface RequestInput {
  readonly form: RequestForm;
  readonly request: AccessRequest;
  readonly subject: Subject;
}

export const STDIN_NAME = '<stdin>';

/** `file` `-` reads `stdin` to its end. */
export async function readRequestFile(file: string, stdin: AsyncIterable<Buffer | string> = process.stdin): Promise<RequestInput> {
  if (file !== '-') return parseRequestText(await readText(file), file);
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return parseRequestText(Buffer.concat(chunks).toString('utf8'), STDIN_NAME);
}

/** Throws WorkflowError (`yaml_syntax`, `invalid_request`) naming file:line:col and field. */
export function parseRequestText(text: string, file: string): RequestInput {
  const line = fromDecisionLine(text, file);
  if (line !== undefined) return line;
  const yaml = parseLocatedYaml(text, file);
  return isCheckRequest(yaml.data) ? fromCheckRequest(yaml) : fromAccessRequest(yaml);
}

/** A decision-log line (JSON with a decision, destination, method and path); exactly one. */
function fromDecisionLine(text: string, file: string): RequestInput | undefined {
  const { records } = parseDecisionLog(text, file);
  if (records.length === 0) return undefined;
  if (records.length > 1) {
    const pick = `sed -n ${records[0]!.line}p ${file === STDIN_NAME ? 'DECISIONS.jsonl' : file} | meshwarden explain … --request -`;
    throw new WorkflowError('invalid_request', [fileIssue(file, `holds ${records.length} decision lines and explain takes one: pick it, e.g. ${pick}`)]);
  }
  return { form: 'decision-line', ...replayRequest(records[0]!) };
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
