/**
 * The Kubernetes manifests in deploy/k8s, checked offline: every object validates against Kubernetes' own
 * OpenAPI schemas (as packaged by kubernetes-models), and the parts that decide whether a deploy works hold:
 * probes on the ports the containers serve, a termination grace above the daemon's shutdown grace, Services
 * and PodDisruptionBudgets that select real pods, and envFrom names that exist.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';

const DIR = 'deploy/k8s';
/** The time the daemon needs after SIGTERM: its shutdown grace, then up to 15 s for aborted tasks to release. */
const ABORT_WAIT_S = 15;

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [key: string]: unknown;
}
interface Container {
  name: string;
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
}

const MODELS: Record<string, { new (data: never): { validate(): void } }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

function load(): Array<{ file: string; object: K8sObject }> {
  const files = [
    ...readdirSync(DIR).map((f) => path.join(DIR, f)),
    ...readdirSync(path.join(DIR, 'examples')).map((f) => path.join(DIR, 'examples', f)),
  ].filter((f) => f.endsWith('.yaml'));
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return { file, object: doc.toJSON() as K8sObject };
    }),
  );
}

const objects = load();
const ofKind = (kind: string): K8sObject[] => objects.filter((o) => o.object.kind === kind).map((o) => o.object);
const podSpec = (d: K8sObject) =>
  (d as unknown as { spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } }).spec
    .template;
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  containers: Container[];
}
const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/k8s', () => {
  it('validates every object against the Kubernetes schemas', () => {
    const kinds = objects.map((o) => o.object.kind).sort();
    expect(kinds).toEqual([
      'ConfigMap',
      'Deployment',
      'Deployment',
      'PodDisruptionBudget',
      'PodDisruptionBudget',
      'Secret',
      'Service',
      'Service',
    ]);
    const invalid: string[] = [];
    for (const { file, object } of objects) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      if (!Model) {
        invalid.push(`${file}: no schema for ${object.apiVersion} ${object.kind}`);
        continue;
      }
      try {
        new Model(object as never).validate();
      } catch (err) {
        invalid.push(`${file} ${object.kind}/${object.metadata.name}: ${(err as Error).message}`);
      }
    }
    expect(invalid).toEqual([]);
  });

  it('the schema check rejects a broken manifest (a probe port that is not a port)', () => {
    const daemon = structuredClone(ofKind('Deployment').find((d) => d.metadata.name === 'codegen-pr-daemon'));
    const container = podSpec(daemon as K8sObject).spec.containers[0] as unknown as { ports: unknown };
    container.ports = [{ containerPort: 'nine' }];
    expect(() => new Deployment(daemon as never).validate()).toThrow(/containerPort/);
  });

  it('gives the daemon more time to stop than its shutdown grace', () => {
    const config = ofKind('ConfigMap')[0] as unknown as { data: Record<string, string> };
    const production = JSON.parse(readFileSync('config/production.json', 'utf8')) as {
      processing: { shutdownGraceMs: number };
    };
    const graceMs = Number(config.data.SHUTDOWN_GRACE_MS ?? production.processing.shutdownGraceMs);
    expect(graceMs).toBe(production.processing.shutdownGraceMs);
    const daemon = ofKind('Deployment').find((d) => d.metadata.name === 'codegen-pr-daemon') as K8sObject;
    expect(podSpec(daemon).spec.terminationGracePeriodSeconds).toBeGreaterThan(graceMs / 1000 + ABORT_WAIT_S);
  });

  it('probes every container on a port it serves, the right path for its command', () => {
    const problems: string[] = [];
    for (const d of ofKind('Deployment')) {
      for (const c of podSpec(d).spec.containers) {
        const ports = new Set<string | number>((c.ports ?? []).flatMap((p) => [p.containerPort, p.name ?? '']));
        const command = c.args?.[0];
        for (const [kind, probe] of [
          ['liveness', c.livenessProbe],
          ['readiness', c.readinessProbe],
        ] as const) {
          const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
          if (port === undefined || !ports.has(port)) problems.push(`${d.metadata.name} ${kind}: port ${port}`);
        }
        const expected =
          command === 'task-api'
            ? { ready: '/health', port: 8787 }
            : { ready: '/readyz', port: 9464, live: '/healthz' };
        if (c.readinessProbe?.httpGet?.path !== expected.ready) problems.push(`${d.metadata.name}: readiness path`);
        if (expected.live && c.livenessProbe?.httpGet?.path !== expected.live)
          problems.push(`${d.metadata.name}: liveness path`);
        if (!c.ports?.some((p) => p.containerPort === expected.port)) problems.push(`${d.metadata.name}: port`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('selects real pods in every Service and PodDisruptionBudget, and refers only to existing config', () => {
    const pods = ofKind('Deployment').map((d) => podSpec(d).metadata.labels);
    const problems: string[] = [];
    for (const s of ofKind('Service')) {
      const selector = (s as unknown as { spec: { selector: Record<string, string> } }).spec.selector;
      if (pods.filter((labels) => matches(selector, labels)).length !== 1) problems.push(`Service ${s.metadata.name}`);
    }
    for (const p of ofKind('PodDisruptionBudget')) {
      const selector = (p as unknown as { spec: { selector: { matchLabels: Record<string, string> } } }).spec.selector
        .matchLabels;
      if (pods.filter((labels) => matches(selector, labels)).length !== 1) problems.push(`PDB ${p.metadata.name}`);
    }
    const names = new Set(objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`));
    for (const d of ofKind('Deployment'))
      for (const c of podSpec(d).spec.containers)
        for (const from of c.envFrom ?? []) {
          if (from.configMapRef && !names.has(`ConfigMap/${from.configMapRef.name}`)) problems.push(`${c.name} cm`);
          if (from.secretRef && !names.has(`Secret/${from.secretRef.name}`)) problems.push(`${c.name} secret`);
        }
    expect(problems).toEqual([]);
  });
});
