/**
 * Checks across an Envoy bootstrap that the proto schema cannot express but Envoy refuses
 * at start-up (or silently misroutes): references to clusters that do not exist, per-route
 * filter config for filters that are not in the chain, a router that is not last.
 */

type Json = unknown;
export type JsonObject = Record<string, Json>;

export function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every object in `value`, depth first, with its dotted path. */
export function* objects(value: Json, at = ''): Generator<[string, JsonObject]> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* objects(item, `${at}[${i}]`);
  } else if (isObject(value)) {
    yield [at, value];
    for (const [k, v] of Object.entries(value)) yield* objects(v, at ? `${at}.${k}` : k);
  }
}

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

export function httpConnectionManagers(bootstrap: Json): JsonObject[] {
  return [...objects(bootstrap)].map(([, o]) => o).filter((o) => o['@type'] === HCM);
}

export function httpFilterNames(hcm: JsonObject): string[] {
  return (hcm['http_filters'] as JsonObject[]).map((f) => String(f['name']));
}

export function routes(hcm: JsonObject): JsonObject[] {
  const config = hcm['route_config'] as JsonObject;
  return (config['virtual_hosts'] as JsonObject[]).flatMap((vh) => vh['routes'] as JsonObject[]);
}

export function clusters(bootstrap: Json): JsonObject[] {
  const resources = (bootstrap as JsonObject)['static_resources'] as JsonObject;
  return (resources['clusters'] as JsonObject[] | undefined) ?? [];
}

export function cluster(bootstrap: Json, name: string): JsonObject | undefined {
  return clusters(bootstrap).find((c) => c['name'] === name);
}

export function typedConfig(bootstrap: Json, typeSuffix: string): JsonObject[] {
  return [...objects(bootstrap)].map(([, o]) => o).filter((o) => String(o['@type'] ?? '').endsWith(typeSuffix));
}

/** Problems of wiring, as readable sentences; empty when the file hangs together. */
export function wiringProblems(bootstrap: Json): string[] {
  const problems: string[] = [];
  const defined = new Set(clusters(bootstrap).map((c) => String(c['name'])));
  // `node.cluster` is the proxy's own service cluster (SDS needs it), not a reference to one
  for (const [at, o] of objects((bootstrap as JsonObject)['static_resources'], 'static_resources')) {
    // Route targets, gRPC service targets, JWKS fetch targets.
    const refs = [o['cluster'], isObject(o['envoy_grpc']) ? o['envoy_grpc']['cluster_name'] : undefined];
    for (const ref of refs) {
      if (typeof ref === 'string' && !defined.has(ref)) problems.push(`${at} names cluster "${ref}", which is not defined`);
    }
  }
  for (const c of clusters(bootstrap)) {
    const assignment = c['load_assignment'] as JsonObject | undefined;
    if (assignment && assignment['cluster_name'] !== c['name']) {
      problems.push(`cluster ${String(c['name'])} has load_assignment for "${String(assignment['cluster_name'])}"`);
    }
  }
  for (const hcm of httpConnectionManagers(bootstrap)) {
    const names = httpFilterNames(hcm);
    if (names.at(-1) !== 'envoy.filters.http.router') problems.push(`${String(hcm['stat_prefix'])}: the router must be the last HTTP filter`);
    for (const route of routes(hcm)) {
      for (const key of Object.keys((route['typed_per_filter_config'] as JsonObject | undefined) ?? {})) {
        if (!names.includes(key)) problems.push(`route ${String(route['name'])} configures "${key}", which is not in the filter chain`);
      }
    }
  }
  return problems;
}
