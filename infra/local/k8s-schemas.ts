/**
 * Vendors the JSON schemas kubeconform needs to validate infra/k8s offline (CI reaches no schema registry):
 *  - Kubernetes kinds from the API's OpenAPI v2 document (api/openapi-spec/swagger.json of the k8s.io/kubernetes Go
 *    module), one file per kind with only the definitions it refers to;
 *  - custom resources from their CRDs (openAPIV3Schema of each served version).
 * Both are made strict as kubeconform's own openapi2jsonschema does: an object that lists its properties refuses any
 * other (unless it preserves unknown fields). Descriptions are dropped to keep the vendored files small.
 *
 *   npx tsx infra/local/k8s-schemas.ts --swagger <swagger.json> --crd <crd.yaml>... [--kubernetes-version 1.36.3]
 *
 * Where each input comes from and how to fetch it again: infra/k8s/schemas/README.md.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './topology';

export const SCHEMAS_DIR = path.join(REPO_ROOT, 'infra', 'k8s', 'schemas');
/** kubeconform -schema-location templates for the two layouts below (see kubeconformArgs in k8s.spec.ts). */
export const SCHEMA_LOCATIONS = [
  path.join(SCHEMAS_DIR, 'kubernetes', '{{ .ResourceKind }}{{ .KindSuffix }}.json'),
  path.join(SCHEMAS_DIR, 'crds', '{{ .Group }}', '{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json'),
];

/** The Kubernetes kinds the manifests use (group/version/kind as in the OpenAPI document's x-kubernetes-group-version-kind). */
export const KUBERNETES_KINDS: { group: string; version: string; kind: string }[] = [
  { group: '', version: 'v1', kind: 'ConfigMap' },
  { group: '', version: 'v1', kind: 'Service' },
  { group: '', version: 'v1', kind: 'ServiceAccount' },
  { group: 'apps', version: 'v1', kind: 'Deployment' },
  { group: 'apps', version: 'v1', kind: 'StatefulSet' },
  { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler' },
  { group: 'batch', version: 'v1', kind: 'Job' },
  { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' },
  { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget' },
];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };
const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Drops descriptions, turns OpenAPI-only idioms into JSON Schema and closes every object that lists its properties. */
export function strictify(node: Json, inProperties = false): Json {
  if (Array.isArray(node)) return node.map((v) => strictify(v));
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    // Inside `properties` the keys are field names (a field may be called `description` or `format`).
    if (!inProperties && (k === 'description' || k === 'x-kubernetes-group-version-kind')) continue;
    out[k] = strictify(v, !inProperties && (k === 'properties' || k === 'patternProperties' || k === 'definitions'));
  }
  if (inProperties) return out;
  if (out['format'] === 'int-or-string' || out['x-kubernetes-int-or-string'] === true) {
    delete out['format'];
    delete out['type'];
    if (!out['anyOf']) out['oneOf'] = [{ type: 'string' }, { type: 'integer' }];
  }
  if (out['nullable'] === true && typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
  delete out['nullable'];
  if (isObject(out['properties']) && out['additionalProperties'] === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true)
    out['additionalProperties'] = false;
  return out;
}

/** Every `#/definitions/<name>` a schema refers to, transitively. */
function referenced(definitions: JsonObject, root: Json): Set<string> {
  const seen = new Set<string>();
  const walk = (node: Json) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (isObject(node)) {
      const ref = node['$ref'];
      if (typeof ref === 'string' && ref.startsWith('#/definitions/')) {
        const name = ref.slice('#/definitions/'.length);
        if (!seen.has(name)) {
          seen.add(name);
          walk(definitions[name] ?? null);
        }
      }
      Object.values(node).forEach(walk);
    }
  };
  walk(root);
  return seen;
}

/** kubeconform's file name for a kind: `{kind}-{first group label}-{version}` (core: `{kind}-{version}`), lower case. */
export function kubernetesSchemaFile(group: string, version: string, kind: string): string {
  const suffix = group === '' ? `-${version}` : `-${group.split('.')[0]}-${version}`;
  return `${kind}${suffix}`.toLowerCase() + '.json';
}

export function kubernetesSchemas(swagger: { definitions: JsonObject }): Map<string, Json> {
  const out = new Map<string, Json>();
  const defs = swagger.definitions;
  for (const want of KUBERNETES_KINDS) {
    const entry = Object.entries(defs).find(([, d]) => {
      const gvks = isObject(d) ? d['x-kubernetes-group-version-kind'] : undefined;
      return (
        Array.isArray(gvks) &&
        gvks.some((g) => isObject(g) && g['group'] === want.group && g['version'] === want.version && g['kind'] === want.kind)
      );
    });
    if (!entry) throw new Error(`the OpenAPI document has no ${want.group || 'core'}/${want.version} ${want.kind}`);
    const [name, def] = entry;
    const used = referenced(defs, def);
    used.delete(name);
    const definitions: JsonObject = {};
    for (const n of [...used].sort()) definitions[n] = defs[n] ?? null;
    // Quantities are written as strings or numbers (cpu: 1); the document types them as strings only.
    const quantity = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
    if (definitions[quantity]) definitions[quantity] = { oneOf: [{ type: 'string' }, { type: 'number' }] };
    const schema = strictify({ ...(def as JsonObject), definitions }) as JsonObject;
    out.set(kubernetesSchemaFile(want.group, want.version, want.kind), { $schema: 'http://json-schema.org/draft-04/schema#', ...schema });
  }
  return out;
}

/** `{group}/{kind}_{version}.json` for every served version of a CRD. */
export function crdSchemas(crdYaml: string): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const doc of parseAllDocuments(crdYaml)) {
    const crd = doc.toJSON() as JsonObject | null;
    if (!isObject(crd) || crd['kind'] !== 'CustomResourceDefinition') continue;
    const spec = crd['spec'] as JsonObject;
    const kind = (spec['names'] as JsonObject)['kind'] as string;
    for (const v of spec['versions'] as JsonObject[]) {
      if (v['served'] !== true) continue;
      const schema = ((v['schema'] as JsonObject | undefined)?.['openAPIV3Schema'] ?? null) as Json;
      if (!isObject(schema)) throw new Error(`CRD ${kind} ${String(v['name'])} has no openAPIV3Schema`);
      out.set(`${String(spec['group'])}/${kind.toLowerCase()}_${String(v['name'])}.json`, strictify(schema));
    }
  }
  return out;
}

function main(argv: string[]): void {
  const swagger: string[] = [];
  const crds: string[] = [];
  let target: string[] | undefined;
  for (const arg of argv) {
    if (arg === '--swagger') target = swagger;
    else if (arg === '--crd') target = crds;
    else if (target) target.push(arg);
    else throw new Error(`unexpected argument ${arg}; usage: --swagger <swagger.json> --crd <crd.yaml>...`);
  }
  const [swaggerFile] = swagger;
  if (swaggerFile === undefined || swagger.length !== 1 || crds.length === 0)
    throw new Error('usage: --swagger <swagger.json> --crd <crd.yaml>...');
  rmSync(path.join(SCHEMAS_DIR, 'kubernetes'), { recursive: true, force: true });
  rmSync(path.join(SCHEMAS_DIR, 'crds'), { recursive: true, force: true });
  const write = (rel: string, schema: Json) => {
    const file = path.join(SCHEMAS_DIR, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(schema)}\n`);
    console.log(`==> ${path.relative(REPO_ROOT, file)}`);
  };
  for (const [file, schema] of kubernetesSchemas(JSON.parse(readFileSync(swaggerFile, 'utf8')) as { definitions: JsonObject }))
    write(path.join('kubernetes', file), schema);
  for (const crd of crds) for (const [file, schema] of crdSchemas(readFileSync(crd, 'utf8'))) write(path.join('crds', file), schema);
}

if (require.main === module) main(process.argv.slice(2));
