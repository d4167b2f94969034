// Step 6: kubectl delete the NexusRuntime: every object it owned and every pod gone, the store's
// volume too (retainOnDelete is false by default; the StorageClass deletes the volume's data).
import { check, eventually, info, step } from '../report.js';
import { NAMESPACE, SAMPLE, type Suite } from '../suite.js';

const KINDS =
  'deployments,replicasets,statefulsets,pods,services,configmaps,secrets,hpa,pdb,networkpolicies,pvc';

interface Pv {
  readonly metadata: { readonly name: string };
  readonly spec: { readonly claimRef?: { readonly namespace: string; readonly name: string } };
}

export async function remove(suite: Suite): Promise<void> {
  const { kubectl } = suite;
  step(`6/6 kubectl delete nexusruntime ${SAMPLE}: everything it owned goes, the store's volume too`);
  const selector = `app.kubernetes.io/instance=${SAMPLE}`;
  const owned = (await kubectl.run(['-n', NAMESPACE, 'get', KINDS, '-l', selector, '-o', 'name']))
    .trim()
    .split('\n');
  info(`${owned.length} objects before: ${owned.filter((n) => !n.startsWith('pod/')).join(' ')}`);
  const volumes = (await kubectl.json<{ items: Pv[] }>(['get', 'pv'])).items
    .filter(
      (pv) => pv.spec.claimRef?.namespace === NAMESPACE && pv.spec.claimRef.name.includes(`${SAMPLE}-store`),
    )
    .map((pv) => pv.metadata.name);
  check(volumes.length === 1, 'the managed store had its volume from the default StorageClass', volumes);

  await kubectl.run(['-n', NAMESPACE, 'delete', 'nexusruntime', SAMPLE, '--wait=true', '--timeout=120s']);
  await eventually(`no object or pod labelled ${selector} is left`, 180_000, async () => {
    const left = (await kubectl.run(['-n', NAMESPACE, 'get', KINDS, '-l', selector, '-o', 'name'])).trim();
    return left === '' ? true : undefined;
  });
  check(true, 'every object and pod of the runtime is gone');
  await eventually(`the store's volume ${volumes[0]} is deleted`, 120_000, async () => {
    const left = (await kubectl.json<{ items: Pv[] }>(['get', 'pv'])).items.map((pv) => pv.metadata.name);
    return left.includes(volumes[0]!) ? undefined : true;
  });
  check(true, "the store's PersistentVolume is gone with it");
}
