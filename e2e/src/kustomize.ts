/**
 * Renders deploy/kubernetes/ without kubectl: the subset of kustomize those
 * kustomizations use, and nothing more (anything else is an error, so a new
 * feature cannot be silently ignored). `resources` (files and folders with a
 * kustomization), `namespace`, `images` (newName/newTag), `replicas`,
 * `configMapGenerator` (envs, files, literals, behavior create/merge, with
 * `generatorOptions.disableNameSuffixHash: true`) and `patches` given inline as
 * JSON 6902 operations with a `target` of kind and name. Where kubectl is
 * installed, e2e/test/kubernetes.test.ts checks this renders exactly what
 * `kubectl kustomize` does.
 *
 * CLI: `npx tsx e2e/src/kustomize.ts deploy/kubernetes/overlays/prod`.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
};

interface Generator {
  name: string;
  behavior?: 'create' | 'merge' | 'replace';
  envs?: string[];
  files?: string[];
  literals?: string[];
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
  replicas?: { name: string; count: number }[];
  generatorOptions?: { disableNameSuffixHash?: boolean };
  configMapGenerator?: Generator[];
  patches?: { target: { kind: string; name: string }; patch: string }[];
}

const KNOWN = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'resources',
  'images',
  'replicas',
  'generatorOptions',
  'configMapGenerator',
  'patches',
]);

/** KEY=VALUE lines; `#` comments and blank lines skipped (kustomize's env file rules). */
export function parseEnvFile(text: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const at = line.indexOf('=');
    if (at <= 0) throw new Error(`not KEY=VALUE: ${line}`);
    data[line.slice(0, at)] = line.slice(at + 1);
  }
  return data;
}

function generate(dir: string, generator: Generator): Record<string, string> {
  const data: Record<string, string> = {};
  for (const file of generator.envs ?? [])
    Object.assign(data, parseEnvFile(readFileSync(path.join(dir, file), 'utf8')));
  for (const file of generator.files ?? [])
    data[path.basename(file)] = readFileSync(path.join(dir, file), 'utf8');
  for (const literal of generator.literals ?? []) Object.assign(data, parseEnvFile(literal));
  return data;
}

/** JSON pointer segments (RFC 6901). */
function pointer(p: string): string[] {
  return p
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function applyOperation(target: unknown, op: { op: string; path: string; value?: unknown }) {
  const parts = pointer(op.path);
  const last = parts.pop() as string;
  let parent = target as Record<string, unknown> | unknown[];
  for (const part of parts) {
    const next = (parent as Record<string, unknown>)[part];
    if (next === undefined || next === null) throw new Error(`patch path ${op.path}: ${part} missing`);
    parent = next as Record<string, unknown>;
  }
  if (Array.isArray(parent)) {
    const at = last === '-' ? parent.length : Number(last);
    if (op.op === 'replace') {
      if (at >= parent.length) throw new Error(`patch replace ${op.path}: nothing there`);
      parent[at] = op.value;
    } else if (op.op === 'add') parent.splice(at, 0, op.value);
    else if (op.op === 'remove') parent.splice(at, 1);
    else throw new Error(`patch op ${op.op} is not supported here`);
    return;
  }
  if (op.op === 'replace') {
    if (!(last in parent)) throw new Error(`patch replace ${op.path}: nothing there`);
    parent[last] = op.value;
  } else if (op.op === 'add') {
    parent[last] = op.value;
  } else if (op.op === 'remove') {
    delete parent[last];
  } else throw new Error(`patch op ${op.op} is not supported here`);
}

export function render(dir: string): K8sObject[] {
  const file = path.join(dir, 'kustomization.yaml');
  const k = parse(readFileSync(file, 'utf8')) as Kustomization;
  for (const key of Object.keys(k)) if (!KNOWN.has(key)) throw new Error(`${file}: ${key} is not supported`);
  const objects: K8sObject[] = [];
  for (const resource of k.resources ?? []) {
    const at = path.join(dir, resource);
    if (statSync(at).isDirectory()) objects.push(...render(at));
    else
      for (const doc of parseAllDocuments(readFileSync(at, 'utf8'))) {
        if (doc.errors.length > 0) throw new Error(`${at}: ${doc.errors[0]?.message}`);
        const value = doc.toJS() as K8sObject | null;
        if (value) objects.push(value);
      }
  }
  if ((k.configMapGenerator ?? []).length > 0 && !k.generatorOptions?.disableNameSuffixHash)
    throw new Error(`${file}: only disableNameSuffixHash: true is supported`);
  for (const generator of k.configMapGenerator ?? []) {
    const data = generate(dir, generator);
    const existing = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === generator.name);
    if (generator.behavior === 'merge' || generator.behavior === 'replace') {
      if (!existing) throw new Error(`${file}: no ConfigMap ${generator.name} to ${generator.behavior}`);
      existing.data =
        generator.behavior === 'merge' ? { ...(existing.data as Record<string, string>), ...data } : data;
    } else {
      if (existing) throw new Error(`${file}: ConfigMap ${generator.name} exists`);
      objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data });
    }
  }
  for (const { target, patch } of k.patches ?? []) {
    const object = objects.find((o) => o.kind === target.kind && o.metadata.name === target.name);
    if (!object) throw new Error(`${file}: patch target ${target.kind}/${target.name} not found`);
    for (const op of parse(patch) as { op: string; path: string; value?: unknown }[])
      applyOperation(object, op);
  }
  for (const { name, count } of k.replicas ?? []) {
    const object = objects.find(
      (o) => ['Deployment', 'StatefulSet', 'ReplicaSet'].includes(o.kind) && o.metadata.name === name,
    );
    if (!object) throw new Error(`${file}: replicas for ${name}: no such workload`);
    (object.spec as { replicas: number }).replicas = count;
  }
  for (const object of objects) {
    for (const container of podContainers(object)) {
      const image = container.image as string;
      const [name] = image.split(/[:@]/);
      const rule = k.images?.find((i) => i.name === name);
      if (rule) {
        const tag =
          rule.newTag ?? (image.includes(':') ? image.slice(image.lastIndexOf(':') + 1) : undefined);
        container.image = `${rule.newName ?? name}${tag ? `:${tag}` : ''}`;
      }
    }
    if (k.namespace && object.kind !== 'Namespace') object.metadata.namespace = k.namespace;
  }
  return objects;
}

/** Every container (init containers too) of a workload's pod template, or of a Pod. */
export function podContainers(object: K8sObject): Record<string, unknown>[] {
  const spec = object.spec as Record<string, unknown> | undefined;
  const pod = (
    object.kind === 'Pod'
      ? spec
      : object.kind === 'CronJob'
        ? (
            ((spec?.jobTemplate as Record<string, unknown>)?.spec as Record<string, unknown>)
              ?.template as Record<string, unknown>
          )?.spec
        : (spec?.template as Record<string, unknown> | undefined)?.spec
  ) as Record<string, unknown[]> | undefined;
  return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])] as Record<string, unknown>[];
}

export function toYaml(objects: K8sObject[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}

if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: tsx e2e/src/kustomize.ts <folder with a kustomization.yaml>');
  process.stdout.write(toYaml(render(path.resolve(dir))));
}
