// Installs what `kubectl apply -k config/default` installs, minus the operator's Deployment (the
// tests run the operator as a local process instead), and gives that process a token of the
// operator's own ServiceAccount so every request it makes goes through the RBAC of config/rbac.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import yaml from 'js-yaml';

import type { ClusterInfo } from './cluster.js';
import { eventually } from './eventually.js';
import { Cluster } from './kube.js';
import { CONFIG_DIR } from './paths.js';

interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

export interface OperatorIdentity {
  kubeconfig: string;
  namespace: string;
  serviceAccount: string;
}

const TOKEN_LIFETIME_SECONDS = 4 * 3600;

export async function installOperatorPrerequisites(info: ClusterInfo): Promise<OperatorIdentity> {
  const cluster = new Cluster({
    ...info,
    operatorKubeconfig: '',
    operatorNamespace: '',
    operatorServiceAccount: '',
  });
  const rendered = cluster.kubectlOk(['kustomize', join(CONFIG_DIR, 'default')]);
  const objects = yaml.loadAll(rendered) as ManifestObject[];
  const installable = objects.filter((o) => o && o.kind !== 'Deployment');
  const serviceAccount = installable.find((o) => o.kind === 'ServiceAccount');
  if (!serviceAccount?.metadata.namespace) {
    throw new Error('config/default renders no namespaced ServiceAccount for the operator');
  }
  // CRDs first so that custom resources in the same render (none today) would find their kind.
  const ordered = [
    ...installable.filter((o) => o.kind === 'CustomResourceDefinition'),
    ...installable.filter((o) => o.kind !== 'CustomResourceDefinition'),
  ];
  cluster.kubectlOk(['apply', '--server-side', '-f', '-'], ordered.map((o) => yaml.dump(o)).join('---\n'));
  for (const crd of ordered.filter((o) => o.kind === 'CustomResourceDefinition')) {
    cluster.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', `crd/${crd.metadata.name}`]);
  }

  const namespace = serviceAccount.metadata.namespace;
  const name = serviceAccount.metadata.name;
  const token = await eventually(`a token for ServiceAccount ${namespace}/${name}`, async () => {
    const request = await cluster.core.createNamespacedServiceAccountToken({
      name,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: TOKEN_LIFETIME_SECONDS } },
    });
    return request.status?.token;
  });
  const kubeconfig = join(info.runDir, 'operator.kubeconfig');
  writeFileSync(
    kubeconfig,
    yaml.dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'nexus-local',
          cluster: { server: info.apiserverUrl, 'certificate-authority': join(info.runDir, 'pki/ca.crt') },
        },
      ],
      users: [{ name: name, user: { token } }],
      contexts: [{ name: 'operator', context: { cluster: 'nexus-local', user: name, namespace } }],
      'current-context': 'operator',
    }),
    { mode: 0o600 },
  );
  return { kubeconfig, namespace, serviceAccount: name };
}
