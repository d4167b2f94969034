// The CRD against the real API server: the Kubernetes schemas it embeds are the ones this API
// server publishes, typos in them are refused, and `kubectl scale` means something or is refused.
import { embeddedSchemas, EMBEDDED_DOCUMENTS, type OpenAPIDocument } from '../../src/api/k8s-openapi.js';
import { K8S_SCHEMAS, K8S_SCHEMAS_VERSION } from '../../src/api/k8s-schemas.js';
import { deploymentOf, rolledOut } from './harness/children.js';
import { eventually } from './harness/eventually.js';
import { OperatorProcess } from './harness/operator-process.js';
import { useSuite, waitReady, waitRuntime } from './harness/suite.js';

const suite = useSuite('schemas');

describe('the CRD against the API server', () => {
  beforeAll(async () => {
    await OperatorProcess.start(suite.cluster.state, { identity: 'schemas' });
  });

  test("the embedded core/v1, autoscaling/v2 and networking/v1 schemas are this API server's (make generate-k8s-schemas)", () => {
    expect(K8S_SCHEMAS_VERSION).toBe(suite.cluster.state.kubernetesVersion);
    const documents: Record<string, OpenAPIDocument> = {};
    for (const document of EMBEDDED_DOCUMENTS) {
      documents[document] = JSON.parse(
        suite.cluster.kubectlOk(['get', '--raw', `/openapi/v3/${document}`]),
      ) as OpenAPIDocument;
    }
    expect(embeddedSchemas(documents)).toEqual(K8S_SCHEMAS);
  });

  test('a typo inside an embedded Kubernetes type is refused at admission', () => {
    const manifest = JSON.stringify({
      apiVersion: 'nexus.dev/v1alpha1',
      kind: 'NexusRuntime',
      metadata: { name: 'typo' },
      spec: { pod: { tolerations: [{ key: 'k', opertor: 'Exists' }] } },
    });
    const result = suite.cluster.kubectl(['create', '-n', suite.namespace, '-f', '-'], manifest);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/unknown field "spec.pod.tolerations\[0\].opertor"/);
    const explained = suite.cluster.kubectlOk(['explain', 'nexusruntime.spec.pod.affinity.podAntiAffinity']);
    expect(explained).toMatch(/preferredDuringSchedulingIgnoredDuringExecution/);
  });

  test('kubectl scale is refused while the HPA owns the count, and scales the kernels without it', async () => {
    await suite.cluster.createRuntime(suite.namespace, 'scaled', {
      autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 4 },
    });
    await waitReady(suite, 'scaled');
    const refused = suite.cluster.kubectl(['scale', '-n', suite.namespace, 'nxr/scaled', '--replicas=3']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/spec.replicas cannot change while spec.autoscaling.enabled is true/);

    // Desired is what the HPA asks for (its floor of 2 here), not the pods that happen to exist.
    const hpaSized = await waitRuntime(
      suite,
      'scaled',
      'two kernels desired',
      (r) => r.status?.desiredReplicas === 2,
      {
        timeoutMs: 120_000,
      },
    );
    expect(hpaSized.status?.desiredReplicas).toBe(2);
    const columns = suite.cluster.kubectlOk(['get', '-n', suite.namespace, 'nxr/scaled']).split('\n');
    expect(columns[0]).toMatch(/READY\s+REPLICAS\s+DESIRED\s+STORE\s+MEM\/INSTANCE\s+INSTANCES\s+AGE/);
    expect(columns[1]).toMatch(/^scaled\s+\S+\s+\d+\s+2\s+Managed\s/);

    await suite.cluster.patchRuntimeSpec(suite.namespace, 'scaled', { autoscaling: { enabled: false } });
    suite.cluster.kubectlOk(['scale', '-n', suite.namespace, 'nxr/scaled', '--replicas=3']);
    await eventually(
      'three kernels',
      async () => {
        const d = await deploymentOf(suite, 'scaled');
        return d?.spec?.replicas === 3 && rolledOut(d);
      },
      { timeoutMs: 120_000 },
    );
    await waitRuntime(suite, 'scaled', 'three desired and Ready', (r) => r.status?.desiredReplicas === 3);
  });
});
