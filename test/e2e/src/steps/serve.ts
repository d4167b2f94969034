// Step 2: the kernels serve through `kubectl port-forward svc/<name>`: /health with the configured
// limit, a panel and a tool, and a tool that suspends on the http extension against a server on
// the host's veth address, allowed by that address.
import { check, checkEqual, info, step } from '../report.js';
import { counter, fetcher } from '../panels.js';
import { isReady, kernelSelector } from '../cluster.js';
import { NAMESPACE, SAMPLE, connect, waitReady, type Suite } from '../suite.js';

export async function serve(suite: Suite): Promise<void> {
  const { kubectl, target } = suite;
  step(`2/6 port-forward svc/${SAMPLE}: /health, a panel, a tool, a tool suspended on the http extension`);
  await kubectl.patch(NAMESPACE, `nexusruntime/${SAMPLE}`, {
    spec: { server: { extensions: { http: { allowedDomains: [target.address] } } } },
  });
  info(`allowedDomains: [${target.address}] (the host's end of the node's veth)`);
  await waitReady(suite, SAMPLE, 180_000);

  const kernel = await connect(suite, `svc/${SAMPLE}`);
  const runtime = await kubectl.runtime(NAMESPACE, SAMPLE);
  const health = await kernel.health();
  checkEqual(health.status, 'ok', '/health answers 200 through the port-forward');
  checkEqual(
    health.config.memoryLimitMB,
    runtime.status?.memoryBudget?.instanceMB,
    'it shows the configured memoryLimitMB',
  );

  // The kernel answers only the Host names it is reached by: the port-forward's (127.0.0.1 above,
  // localhost on any port), the pod's IP (the kubelet's probes, Prometheus' scrapes) and the
  // Service's names; another name (DNS rebinding) is refused. (The runtime being Ready above is the
  // kubelet's own probes passing.)
  const pods = await kubectl.pods(NAMESPACE, kernelSelector(SAMPLE));
  const podIP = pods.find(isReady)?.status.podIP ?? '';
  const podHost = podIP.includes(':') ? `[${podIP}]:3000` : `${podIP}:3000`;
  for (const [path, host] of [
    ['/health', `localhost:${kernel.localPort}`],
    ['/ready', podHost],
    ['/metrics', podHost],
    ['/health', `${SAMPLE}:3000`],
    ['/health', `${SAMPLE}.${NAMESPACE}.svc:3000`],
    ['/health', `${SAMPLE}.${NAMESPACE}.svc.cluster.local:3000`],
  ] as const) {
    checkEqual(await kernel.statusWithHost(path, host), 200, `${path} answers with Host ${host}`);
  }
  checkEqual(
    await kernel.statusWithHost('/health', 'rebind.attacker.example'),
    421,
    'a Host the kernel is not reached by is refused',
  );

  const panel = await kernel.createPanel(counter);
  const result = await kernel.trigger(panel.id, 'increment', { by: 41 });
  checkEqual(result.returnValue, 41, 'a tool ran in the sandbox and returned');
  suite.panels.set('counter', panel.id);

  const fetching = await kernel.createPanel(fetcher);
  const served = target.served();
  const fetched = await kernel.trigger(fetching.id, 'hello', { url: `${target.url}/hello` });
  checkEqual(
    fetched.returnValue,
    'world',
    'a tool suspended on $ext.http.get and resumed with the answer',
    fetched,
  );
  check(
    (fetched.metrics?.suspensions ?? 0) >= 1,
    'the execution was suspended while the request was out',
    fetched.metrics,
  );
  checkEqual(target.served(), served + 1, `the request reached ${target.address} from the pod`);
}
