// Step 5b: the HPA scales on the real cgroups' memory. A runtime tuned for it (a small memory
// request, a low target, a short scale-down window) gets handlers that each hold memory while
// parked on a slow server (on a few panels), one after the other on every lane until the HPA has
// added a replica from metrics-server's figures; once they stop, it removes the replicas again.
import { check, info, step } from '../report.js';
import { holder } from '../panels.js';
import { eventually } from '../report.js';
import { NAMESPACE, connect, printHpa, waitReady, type Suite } from '../suite.js';

const NAME = 'elastic';
const HOLDERS = 8;
const PANELS = 4;
const HOLD_MB = 32;
/** How long each handler parks: within the http extension's own bound on one request (10 s). */
const PARK_MS = 8_000;

interface Hpa {
  readonly status: {
    readonly currentReplicas?: number;
    readonly desiredReplicas?: number;
    readonly currentMetrics?: readonly {
      readonly resource?: {
        readonly name: string;
        readonly current: { readonly averageUtilization?: number };
      };
    }[];
  };
}

export async function autoscale(suite: Suite): Promise<void> {
  const { kubectl, target } = suite;
  step(
    `5/6 memory: the HPA scales out on real memory metrics (${HOLDERS} handlers holding ${HOLD_MB} MiB each) and back`,
  );
  await kubectl.apply({
    apiVersion: 'nexus.dev/v1alpha1',
    kind: 'NexusRuntime',
    metadata: { name: NAME, namespace: NAMESPACE },
    spec: {
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
      runtime: { memoryLimitMB: 64, timeoutMs: PARK_MS + 5_000 },
      autoscaling: {
        enabled: true,
        minReplicas: 1,
        maxReplicas: 3,
        targetMemoryUtilizationPercentage: 80,
        behavior: {
          scaleDown: {
            stabilizationWindowSeconds: 30,
            policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
          },
        },
      },
      server: { extensions: { http: { allowedDomains: [target.address] } } },
      store: { managed: { persistence: { enabled: false } } },
    },
  });
  await waitReady(suite, NAME, 300_000);
  const hpa = (): Promise<Hpa> => kubectl.json<Hpa>(['-n', NAMESPACE, 'get', 'hpa', NAME]);
  await eventually('the HPA reads a memory utilization', 120_000, async () =>
    (await hpa()).status.currentMetrics?.find((m) => m.resource?.name === 'memory') ? true : undefined,
  );
  await printHpa(suite, NAME);

  const kernel = await connect(suite, `svc/${NAME}`);
  // Spread over panels: one panel may hold only its share of a pod's instances (PANEL_MAX_INSTANCES).
  const panels = await Promise.all(Array.from({ length: PANELS }, () => kernel.createPanel(holder)));
  let holding = true;
  const lanes = Array.from({ length: HOLDERS }, async (_, lane) => {
    const panel = panels[lane % PANELS]!;
    const outcomes: string[] = [];
    while (holding) {
      const url = `${target.url}/slow?ms=${PARK_MS}`;
      const result = await kernel.trigger(panel.id, 'hold', { mb: HOLD_MB, url, timeoutMs: PARK_MS + 1_500 });
      outcomes.push(
        result.status === 'success' ? 'success' : `${result.error?.code}: ${result.error?.message}`,
      );
    }
    return outcomes;
  });
  await eventually(`${HOLDERS} handlers parked on the slow server`, 60_000, () =>
    Promise.resolve(target.parked() >= HOLDERS ? true : undefined),
  );
  info(`${target.parked()} handlers parked, each holding ${HOLD_MB} MiB, re-triggered as each returns`);
  const scaledOut = await eventually(
    'the HPA adds a replica',
    300_000,
    async () => {
      const status = (await hpa()).status;
      return (status.desiredReplicas ?? 1) > 1 ? status : undefined;
    },
    { reportEveryMs: 15_000, onWait: () => printHpa(suite, NAME) },
  );
  await printHpa(suite, NAME);
  check(true, `the HPA scaled out to ${scaledOut.desiredReplicas} replicas on memory`);

  holding = false;
  target.release();
  const outcomes = (await Promise.all(lanes)).flat();
  check(
    outcomes.every((o) => o === 'success'),
    `all ${outcomes.length} holding handlers succeeded`,
    outcomes.filter((o) => o !== 'success'),
  );
  await eventually(
    'the HPA scales back to 1 replica',
    360_000,
    async () => {
      const status = (await hpa()).status;
      return status.desiredReplicas === 1 && status.currentReplicas === 1 ? status : undefined;
    },
    { reportEveryMs: 20_000, onWait: () => printHpa(suite, NAME) },
  );
  await printHpa(suite, NAME);
  check(true, 'the HPA scaled back in once the memory was released');
  await kubectl.run(['-n', NAMESPACE, 'delete', 'nexusruntime', NAME, '--wait=true', '--timeout=120s']);
}
