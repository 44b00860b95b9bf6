/**
 * What every tollgate manifest must satisfy beyond the API schema
 * (deploy/kubernetes/README.md "What CI verifies"). Returns the violations,
 * one sentence each; [] when none.
 */
import { type K8sObject, podContainers } from './kustomize.js';

type Json = Record<string, unknown>;

/** Env names whose values are secrets: never in a ConfigMap or a literal env value. */
export const SECRET_NAME = /SECRET|PASSWORD|TOKEN|_KEY$|_KEYS$|^DATABASE_URL$|^REDIS_URL$|^SERVICE_CLIENTS$/;

const HEALTH_PATHS = new Set(['/health/live', '/health/ready']);

function podSpec(object: K8sObject): Json | undefined {
  const template = (object.spec as Json | undefined)?.template as Json | undefined;
  return template?.spec as Json | undefined;
}

function labelsMatch(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
) {
  if (!selector || !labels) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function policyViolations(objects: K8sObject[]): string[] {
  const found: string[] = [];
  const workloads = objects.filter((o) => ['Deployment', 'Job'].includes(o.kind));
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const templateLabels = (o: K8sObject) =>
    ((((o.spec as Json).template as Json).metadata as Json)?.labels ?? {}) as Record<string, string>;

  for (const object of objects) {
    if (object.kind === 'Secret')
      found.push(`Secret/${object.metadata.name}: secrets are created by the operator, not committed`);
    if (object.kind === 'ConfigMap')
      for (const key of Object.keys((object.data as Json) ?? {}))
        if (SECRET_NAME.test(key)) found.push(`ConfigMap/${object.metadata.name}: ${key} is a secret`);
  }

  for (const workload of workloads) {
    const name = `${workload.kind}/${workload.metadata.name}`;
    const pod = podSpec(workload) ?? {};
    const podSecurity = (pod.securityContext ?? {}) as Json;
    const volumes = (pod.volumes ?? []) as Json[];
    if (pod.automountServiceAccountToken !== false) found.push(`${name}: mounts a service account token`);
    for (const container of podContainers(workload)) {
      const where = `${name} container ${container.name as string}`;
      const security = (container.securityContext ?? {}) as Json;
      if (security.runAsNonRoot !== true && podSecurity.runAsNonRoot !== true)
        found.push(`${where}: may run as root`);
      if (security.allowPrivilegeEscalation !== false) found.push(`${where}: allows privilege escalation`);
      if (security.readOnlyRootFilesystem !== true) found.push(`${where}: writable root filesystem`);
      if (!((security.capabilities as Json)?.drop as string[] | undefined)?.includes('ALL'))
        found.push(`${where}: keeps Linux capabilities`);
      const resources = (container.resources ?? {}) as Record<string, Record<string, string> | undefined>;
      for (const kind of ['requests', 'limits'])
        for (const resource of ['cpu', 'memory'])
          if (!resources[kind]?.[resource]) found.push(`${where}: no ${resource} ${kind.slice(0, -1)}`);
      const mounts = (container.volumeMounts ?? []) as Json[];
      const tmp = mounts.find((m) => m.mountPath === '/tmp');
      const tmpVolume = volumes.find((v) => v.name === tmp?.name);
      if (!tmpVolume?.emptyDir)
        found.push(`${where}: no emptyDir at /tmp (the root filesystem is read-only)`);
      for (const env of (container.env ?? []) as Json[])
        if (SECRET_NAME.test(env.name as string) && env.value !== undefined)
          found.push(`${where}: ${env.name as string} given as a literal value`);
      if (workload.kind !== 'Deployment') continue;
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const spec = container[probe] as Json | undefined;
        if (!spec) {
          found.push(`${where}: no ${probe}`);
          continue;
        }
        const http = spec.httpGet as Json | undefined;
        if (http && !HEALTH_PATHS.has(http.path as string))
          found.push(`${where}: ${probe} on ${http.path as string}, not a health route`);
        if (!http && !spec.tcpSocket) found.push(`${where}: ${probe} neither httpGet nor tcpSocket`);
      }
      const image = container.image as string;
      if (image.startsWith('tollgate/') && !(container.readinessProbe as Json)?.httpGet)
        found.push(`${where}: a tollgate service's readiness must be its /health/ready`);
    }
  }

  for (const deployment of deployments) {
    const name = `Deployment/${deployment.metadata.name}`;
    const labels = templateLabels(deployment);
    const pdb = objects.find(
      (o) =>
        o.kind === 'PodDisruptionBudget' &&
        labelsMatch(((o.spec as Json).selector as Json)?.matchLabels as Record<string, string>, labels),
    );
    if (!pdb) found.push(`${name}: no PodDisruptionBudget`);
    const replicas = ((deployment.spec as Json).replicas as number | undefined) ?? 1;
    const spread = (podSpec(deployment)?.topologySpreadConstraints ?? []) as Json[];
    if (replicas > 1 && !spread.some((s) => s.topologyKey === 'kubernetes.io/hostname'))
      found.push(`${name}: ${replicas} replicas without a spread over nodes`);
  }

  for (const service of objects.filter((o) => o.kind === 'Service')) {
    const selector = (service.spec as Json).selector as Record<string, string>;
    if (!deployments.some((d) => labelsMatch(selector, templateLabels(d))))
      found.push(`Service/${service.metadata.name}: selects no Deployment's pods`);
  }
  for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const target = (hpa.spec as Json).scaleTargetRef as Json;
    if (!deployments.some((d) => d.metadata.name === target.name))
      found.push(`HorizontalPodAutoscaler/${hpa.metadata.name}: no Deployment ${target.name as string}`);
  }
  return found;
}
