/**
 * Validation of Kubernetes, Istio and Prometheus Operator resources with the schemas of
 * kubernetes-models. Those schemas accept unknown fields (JSON Schema's default), while
 * the API server with strict field validation (`kubectl apply`'s default since 1.27)
 * rejects them; so the validator runs on a proxy that records which keys the schema
 * looked at, and any key it never looked at in an object it did inspect is unknown.
 */
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { AuthorizationPolicy as IstioAuthorizationPolicyV1 } from '@kubernetes-models/istio/security.istio.io/v1';
import { AuthorizationPolicy as IstioAuthorizationPolicyV1beta1 } from '@kubernetes-models/istio/security.istio.io/v1beta1';
import { DestinationRule as IstioDestinationRuleV1beta1 } from '@kubernetes-models/istio/networking.istio.io/v1beta1';
import { IstioOperator } from '@kubernetes-models/istio/install.istio.io/v1alpha1';
import { PodMonitor, PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: any) => Validatable;

/** apiVersion/kind → model. A kind missing here is a finding, not a pass. */
const MODELS: ReadonlyMap<string, ModelClass> = new Map<string, ModelClass>([
  ['v1/Namespace', Namespace],
  ['v1/ServiceAccount', ServiceAccount],
  ['v1/Service', Service],
  ['v1/ConfigMap', ConfigMap],
  ['apps/v1/Deployment', Deployment],
  ['autoscaling/v2/HorizontalPodAutoscaler', HorizontalPodAutoscaler],
  ['networking.k8s.io/v1/NetworkPolicy', NetworkPolicy],
  ['policy/v1/PodDisruptionBudget', PodDisruptionBudget],
  ['security.istio.io/v1/AuthorizationPolicy', IstioAuthorizationPolicyV1],
  ['security.istio.io/v1beta1/AuthorizationPolicy', IstioAuthorizationPolicyV1beta1],
  ['networking.istio.io/v1beta1/DestinationRule', IstioDestinationRuleV1beta1],
  ['install.istio.io/v1alpha1/IstioOperator', IstioOperator],
  ['monitoring.coreos.com/v1/ServiceMonitor', ServiceMonitor],
  ['monitoring.coreos.com/v1/PodMonitor', PodMonitor],
  ['monitoring.coreos.com/v1/PrometheusRule', PrometheusRule],
]);

/**
 * Paths whose schema is `x-kubernetes-preserve-unknown-fields` upstream: the IstioOperator
 * CRD types nothing under spec, so its meshConfig is checked by the Istio tests instead.
 */
const FREE_FORM: ReadonlyMap<string, ReadonlySet<string>> = new Map([['install.istio.io/v1alpha1/IstioOperator', new Set(['.spec'])]]);

/** Keys of an object that the API server reads from the type metadata, not the schema. */
const TYPE_META = new Set(['apiVersion', 'kind']);

type Reads = Map<string, Set<string> | 'all'>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A read-only view of `value` that records, per path, the keys a reader asks for. */
function tracking(value: object, at: string, reads: Reads, cache: WeakMap<object, object>): object {
  const cached = cache.get(value);
  if (cached) return cached;
  const proxy = new Proxy(value, {
    get(target, key, receiver) {
      const child: unknown = Reflect.get(target, key, receiver);
      if (typeof key !== 'string') return child;
      if (!Array.isArray(target)) {
        const seen = reads.get(at) ?? new Set<string>();
        if (seen !== 'all') seen.add(key);
        reads.set(at, seen);
      }
      if (typeof child === 'object' && child !== null) {
        const where = Array.isArray(target) ? `${at}[${key}]` : `${at}.${key}`;
        return tracking(child, where, reads, cache);
      }
      return child;
    },
    ownKeys(target) {
      // A schema that enumerates keys (maps, additionalProperties) accepts them all.
      if (!Array.isArray(target)) reads.set(at, 'all');
      return Reflect.ownKeys(target);
    },
  });
  cache.set(value, proxy);
  return proxy;
}

function unknownKeys(value: unknown, at: string, reads: Reads, out: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => unknownKeys(item, `${at}[${i}]`, reads, out));
    return;
  }
  if (!isObject(value)) return;
  const seen = reads.get(at);
  // An object the schema never looked into is free-form (no properties in its schema).
  if (seen !== undefined && seen !== 'all' && seen.size > 0) {
    for (const key of Object.keys(value)) {
      if (!seen.has(key) && !(at === '' && TYPE_META.has(key))) out.push(`${at}.${key}: unknown field`);
    }
  }
  for (const [key, child] of Object.entries(value)) unknownKeys(child, `${at}.${key}`, reads, out);
}

/** Problems with one resource: unsupported kind, schema errors, unknown fields. */
export function k8sProblems(doc: unknown): string[] {
  if (!isObject(doc)) return ['not an object'];
  const id = `${String(doc['apiVersion'])}/${String(doc['kind'])}`;
  const Model = MODELS.get(id);
  if (!Model) return [`${id} is not a kind these tests know how to validate`];
  const model = new Model(doc);
  const reads: Reads = new Map();
  const problems: string[] = [];
  try {
    model.validate.call(tracking(model as object, '', reads, new WeakMap()));
  } catch (error) {
    problems.push(`${id}: ${(error as Error).message}`);
  }
  const free = FREE_FORM.get(id) ?? new Set<string>();
  const unknown: string[] = [];
  unknownKeys(JSON.parse(JSON.stringify(model)), '', reads, unknown);
  return [...problems, ...unknown.filter((p) => !free.has(p.slice(0, p.indexOf(':'))))];
}

export function isKnownKind(doc: unknown): boolean {
  return isObject(doc) && MODELS.has(`${String(doc['apiVersion'])}/${String(doc['kind'])}`);
}
