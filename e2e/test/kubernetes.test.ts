/**
 * deploy/kubernetes/ checked offline (issue 15 item 2): both overlays render
 * (e2e/src/kustomize.ts; and exactly as `kubectl kustomize` renders them
 * where kubectl is installed), every object validates against the
 * Kubernetes API schemas that the npm package kubernetes-models ships, and
 * the house policy holds (e2e/src/kubernetes-policy.ts). There is no cluster
 * here: nothing is applied, admission webhooks and quotas are not exercised.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as batch from 'kubernetes-models/batch/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { policyViolations, SECRET_NAME } from '../src/kubernetes-policy.js';
import { type K8sObject, parseEnvFile, podContainers, render } from '../src/kustomize.js';
import { TEMPLATE_PATH, TEMPLATE_VARIABLES } from '../src/nginx.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const deploy = path.join(root, 'deploy', 'kubernetes');
const OVERLAYS = ['dev', 'prod'] as const;
const rendered = Object.fromEntries(
  OVERLAYS.map((o) => [o, render(path.join(deploy, 'overlays', o))]),
) as Record<(typeof OVERLAYS)[number], K8sObject[]>;
const find = (objects: K8sObject[], kind: string, name: string) => {
  const object = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!object) throw new Error(`${kind}/${name} not rendered`);
  return object;
};

/** kubernetes-models' classes by apiVersion; a kind the manifests start using must be added here. */
const MODELS: Record<string, Record<string, unknown>> = {
  v1: core,
  'apps/v1': apps,
  'batch/v1': batch,
  'policy/v1': policy,
  'autoscaling/v2': autoscaling,
  'networking.k8s.io/v1': networking,
};

async function modelFor(object: K8sObject) {
  const Model = MODELS[object.apiVersion]?.[object.kind] as
    | (new (
        data: unknown,
      ) => { validate(): void })
    | undefined;
  if (!Model) throw new Error(`no model for ${object.apiVersion} ${object.kind}`);
  return new Model(object);
}

function kubectlVersion(): string | undefined {
  try {
    return execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).split('\n')[0];
  } catch {
    return undefined;
  }
}

describe.each(OVERLAYS)('overlay %s', (overlay) => {
  const objects = rendered[overlay];

  it('renders the workloads, their Services, PDBs, HPAs, the migrate Job and an Ingress', () => {
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    for (const name of [
      'Deployment/auth',
      'Deployment/billing-web',
      'Deployment/billing-worker',
      'Deployment/gateway',
      'Job/migrate',
      'Service/auth',
      'Service/auth-pods',
      'Service/billing-pods',
      'Service/gateway',
      'HorizontalPodAutoscaler/auth',
      'HorizontalPodAutoscaler/billing-worker',
      'Ingress/tollgate',
      'ConfigMap/gateway-template',
    ])
      expect(names).toContain(name);
    expect(names.includes('Deployment/stripe-emulator')).toBe(overlay === 'dev');
    const namespace = overlay === 'dev' ? 'tollgate-dev' : 'tollgate';
    for (const o of objects) if (o.kind !== 'Namespace') expect(o.metadata.namespace).toBe(namespace);
  });

  it('validates against the Kubernetes API schemas (kubernetes-models)', async () => {
    const failures: string[] = [];
    for (const object of objects) {
      try {
        (await modelFor(object)).validate();
      } catch (error) {
        failures.push(`${object.kind}/${object.metadata.name}: ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('meets the policy: probes, limits, non-root, read-only root, no secret values, PDBs, spread', () => {
    expect(policyViolations(objects)).toEqual([]);
  });

  it('splits billing into web (RUN_WORKER=false) and worker (RUN_WORKER=true) Deployments of one image', () => {
    const runWorker = (name: string) => {
      const [container] = podContainers(find(objects, 'Deployment', name));
      return {
        image: container?.image,
        RUN_WORKER: ((container?.env ?? []) as { name: string; value?: string }[]).find(
          (e) => e.name === 'RUN_WORKER',
        )?.value,
      };
    };
    const web = runWorker('billing-web');
    const worker = runWorker('billing-worker');
    expect(web.RUN_WORKER).toBe('false');
    expect(worker.RUN_WORKER).toBe('true');
    expect(web.image).toBe(worker.image);
    expect(web.image).toMatch(/^tollgate\/billing:/);
  });

  it('autoscales auth on CPU and billing workers on the inbox depth', () => {
    const auth = find(objects, 'HorizontalPodAutoscaler', 'auth').spec as {
      metrics: { resource?: { name: string } }[];
    };
    expect(auth.metrics.map((m) => m.resource?.name)).toEqual(['cpu']);
    const worker = find(objects, 'HorizontalPodAutoscaler', 'billing-worker').spec as {
      metrics: { type: string; external?: { metric: { name: string } } }[];
    };
    expect(worker.metrics.map((m) => [m.type, m.external?.metric.name])).toEqual([
      ['External', 'tollgate_billing_inbox_depth'],
    ]);
  });

  it('runs the gateway on the repository’s nginx template, every variable of it set', async () => {
    const template = find(objects, 'ConfigMap', 'gateway-template').data as Record<string, string>;
    expect(template['default.conf.template']).toBe(await readFile(TEMPLATE_PATH, 'utf8'));
    const config = find(objects, 'ConfigMap', 'gateway-config').data as Record<string, string>;
    const [gateway] = podContainers(find(objects, 'Deployment', 'gateway'));
    const given = new Set([
      ...Object.keys(config),
      ...((gateway?.env ?? []) as { name: string }[]).map((e) => e.name),
    ]);
    for (const variable of TEMPLATE_VARIABLES) expect(given).toContain(variable);
    const filter = new RegExp(config.NGINX_ENVSUBST_FILTER as string);
    expect(TEMPLATE_VARIABLES.filter((v) => filter.test(v))).toEqual([...TEMPLATE_VARIABLES]);
    expect(filter.test('host')).toBe(false);
  });

  it('references only the Secrets whose keys secrets.example/ lists, and lists no value', async () => {
    const examples: Record<string, string> = {
      'auth-secrets': 'auth.env',
      'billing-secrets': 'billing.env',
      'emulator-secrets': 'emulator.env',
    };
    const referenced = new Set(
      objects
        .flatMap((o) => podContainers(o))
        .flatMap((c) => (c.envFrom ?? []) as { secretRef?: { name: string } }[])
        .flatMap((e) => (e.secretRef ? [e.secretRef.name] : [])),
    );
    for (const name of referenced) {
      expect(Object.keys(examples)).toContain(name);
      const keys = parseEnvFile(
        await readFile(path.join(deploy, 'secrets.example', examples[name]!), 'utf8'),
      );
      expect(Object.values(keys).every((v) => v === '')).toBe(true);
      // What the policy calls secret is in the Secret, and only there.
      for (const key of Object.keys(keys))
        if (key !== 'ADMIN_COOKIE_SECRET') expect(key).toMatch(SECRET_NAME);
    }
  });
});

describe('policy checks find what they are for', () => {
  const mutate = (change: (objects: K8sObject[]) => void) => {
    const copy = structuredClone(rendered.prod);
    change(copy);
    return policyViolations(copy);
  };
  const authContainer = (objects: K8sObject[]) => podContainers(find(objects, 'Deployment', 'auth'))[0]!;

  it('a missing probe, limit or non-root setting, a writable root, a secret in a ConfigMap', () => {
    expect(mutate((o) => delete authContainer(o).livenessProbe)).toContain(
      'Deployment/auth container auth: no livenessProbe',
    );
    expect(
      mutate((o) => delete (authContainer(o).resources as { limits: Record<string, string> }).limits.memory),
    ).toContain('Deployment/auth container auth: no memory limit');
    expect(
      mutate((o) => {
        (authContainer(o).securityContext as Record<string, unknown>).readOnlyRootFilesystem = false;
      }),
    ).toContain('Deployment/auth container auth: writable root filesystem');
    expect(
      mutate((o) => {
        (find(o, 'ConfigMap', 'auth-config').data as Record<string, string>).ADMIN_PASSWORD = 'x';
      }),
    ).toContain('ConfigMap/auth-config: ADMIN_PASSWORD is a secret');
    expect(
      mutate((o) => {
        (authContainer(o).readinessProbe as { httpGet: { path: string } }).httpGet.path = '/';
      }),
    ).toContain('Deployment/auth container auth: readinessProbe on /, not a health route');
    expect(mutate((o) => o.splice(o.indexOf(find(o, 'PodDisruptionBudget', 'auth')), 1))).toContain(
      'Deployment/auth: no PodDisruptionBudget',
    );
  });

  it('the schema check rejects a wrong type', async () => {
    const copy = structuredClone(find(rendered.prod, 'HorizontalPodAutoscaler', 'auth'));
    (copy.spec as Record<string, unknown>).maxReplicas = 'six';
    await expect(modelFor(copy).then((m) => m.validate())).rejects.toThrow(/maxReplicas must be integer/);
  });
});

const kubectl = kubectlVersion();
describe.runIf(kubectl)(`kubectl kustomize (${kubectl ?? 'kubectl not installed'})`, () => {
  it.each(OVERLAYS)('renders overlay %s exactly as e2e/src/kustomize.ts does', (overlay) => {
    const dir = path.join(deploy, 'overlays', overlay);
    const theirs = parseAllDocuments(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).map(
      (d) => d.toJS() as K8sObject,
    );
    const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const ours = new Map(rendered[overlay].map((o) => [key(o), o]));
    expect([...ours.keys()].sort()).toEqual(theirs.map(key).sort());
    for (const object of theirs)
      expect(isDeepStrictEqual(object, ours.get(key(object))), key(object)).toBe(true);
  });
});
