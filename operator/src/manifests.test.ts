// config/ as kustomize renders it: the install's identity, the images it names, and RBAC that
// never grants a write it does not need.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const load = <T>(path: string) => yaml.load(readFileSync(repo(path), 'utf8')) as T;
const version = load<{ version: string }>('operator/package.json').version;

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

describe('config/', () => {
  it('labels the install with its instance and the operator version, never on selectors', () => {
    const k = load<{ labels: { pairs: Record<string, string>; includeSelectors: boolean }[] }>(
      'config/default/kustomization.yaml',
    );
    expect(k.labels[0]?.pairs).toEqual({
      'app.kubernetes.io/instance': 'nexus-operator',
      'app.kubernetes.io/version': version,
    });
    expect(k.labels[0]?.includeSelectors).toBe(false);
  });

  it('runs the operator image of this version, with the local kernel and store images', () => {
    const d = load<{
      spec: {
        replicas: number;
        template: {
          spec: {
            containers: {
              image: string;
              env: { name: string; value?: string }[];
              resources: Record<'requests' | 'limits', Record<string, string>>;
            }[];
          };
        };
      };
    }>('config/manager/manager.yaml');
    const container = d.spec.template.spec.containers[0]!;
    expect(container.image).toBe(`localhost/nexus/operator:${version}`);
    const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
    expect(env.KERNEL_IMAGE).toBe(`localhost/nexus/workspace-kernel:${version}`);
    expect(env.STORE_IMAGE).toBe('localhost/nexus/redis:7.0');
    expect(d.spec.replicas).toBe(2);
    // Two replicas reconcile one at a time only through the Lease (off in the process's defaults).
    expect(env.LEADER_ELECT).toBe('true');
    // kube-score: every container states the node disk it may use.
    expect(container.resources.requests['ephemeral-storage']).toBe('64Mi');
    expect(container.resources.limits['ephemeral-storage']).toBe('64Mi');
    expect(load<{ spec: { minAvailable: number } }>('config/manager/pdb.yaml').spec.minAvailable).toBe(1);
  });

  it('grants no update, no write to Secrets but create, and never deletes the kernel Deployment', () => {
    const rules = load<{ rules: Rule[] }>('config/rbac/role.yaml').rules;
    const verbs = (resource: string) =>
      rules.filter((r) => r.resources.includes(resource)).flatMap((r) => r.verbs);
    for (const rule of rules) {
      if (!rule.resources.includes('nexusruntimes/finalizers')) expect(rule.verbs).not.toContain('update');
    }
    expect(verbs('secrets').sort()).toEqual(['create', 'delete', 'get', 'list', 'watch']);
    expect(verbs('deployments')).not.toContain('delete');
    expect(verbs('nexusruntimes').sort()).toEqual(['list', 'watch']);
  });

  it('ships a NetworkPolicy for the operator in the default install', () => {
    expect(load<{ resources: string[] }>('config/default/kustomization.yaml').resources).toContain(
      '../network-policy',
    );
    const policy = load<{ spec: { policyTypes: string[] } }>('config/network-policy/operator.yaml');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
  });
});
