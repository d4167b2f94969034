// The cluster under test, reached only through the real kubectl of hack/cluster-up.sh, with the
// admin kubeconfig: what a user of the cluster would type.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ClusterEnv {
  readonly kubeconfig: string;
  readonly kubectl: string;
  /** The host's end of the node's veth: servers here are reachable from the pods. */
  readonly hostIp: string;
  readonly runDir: string;
}

export function readClusterEnv(file: string): ClusterEnv {
  const env = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) env.set(match[1]!, match[2]!);
  }
  const need = (key: string): string => {
    const value = env.get(key);
    if (!value) throw new Error(`${file} lacks ${key}`);
    return value;
  };
  if (need('NODE_MODE') !== 'real') throw new Error(`${file} describes a cluster without a real node`);
  return {
    kubeconfig: need('KUBECONFIG'),
    kubectl: need('KUBECTL'),
    hostIp: need('HOST_IP'),
    runDir: need('RUN_DIR'),
  };
}

export interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
  readonly observedGeneration?: number;
}

interface Metadata {
  readonly name: string;
  readonly uid?: string;
  readonly namespace?: string;
  readonly generation?: number;
  readonly labels?: Record<string, string>;
}

export interface NexusRuntime {
  readonly metadata: Metadata;
  readonly status?: {
    readonly observedGeneration?: number;
    readonly conditions?: readonly Condition[];
    readonly readyReplicas?: number;
    readonly replicas?: number;
    readonly desiredReplicas?: number;
    readonly store?: {
      /** A replicated managed store: the pod the Sentinels name as primary. */
      readonly primary?: string;
      readonly replicasInSync?: number;
    };
    readonly memoryBudget?: {
      readonly instanceMB?: number;
      readonly maxInstances?: number;
      readonly fits?: boolean;
    };
  };
}

export interface Pod {
  readonly metadata: Metadata;
  readonly spec: {
    readonly nodeName?: string;
    readonly serviceAccountName?: string;
    readonly containers: readonly {
      readonly name: string;
      readonly image: string;
      readonly resources?: { readonly limits?: { readonly memory?: string } };
    }[];
  };
  readonly status: {
    readonly phase?: string;
    readonly podIP?: string;
    readonly conditions?: readonly Condition[];
    readonly containerStatuses?: readonly {
      readonly name: string;
      readonly ready: boolean;
      readonly restartCount: number;
    }[];
  };
}

export interface List<T> {
  readonly items: readonly T[];
}

export function condition(object: NexusRuntime | Pod, type: string): Condition | undefined {
  return object.status?.conditions?.find((c) => c.type === type);
}

export const isReady = (pod: Pod): boolean => condition(pod, 'Ready')?.status === 'True';

export class Kubectl {
  constructor(private readonly env: ClusterEnv) {}

  get binary(): string {
    return this.env.kubectl;
  }

  get kubeconfig(): string {
    return this.env.kubeconfig;
  }

  /** Runs kubectl; rejects with its stderr when it exits non-zero. */
  async run(args: readonly string[], input?: string): Promise<string> {
    const child = run(this.env.kubectl, ['--kubeconfig', this.env.kubeconfig, ...args], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 600_000,
    });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    try {
      return (await child).stdout;
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim();
      throw new Error(`kubectl ${args.join(' ')}: ${stderr || (error as Error).message}`);
    }
  }

  async json<T>(args: readonly string[]): Promise<T> {
    return JSON.parse(await this.run([...args, '-o', 'json'])) as T;
  }

  /** `kubectl apply -f -` of one object (JSON is YAML). */
  async apply(object: object): Promise<string> {
    return (await this.run(['apply', '-f', '-'], JSON.stringify(object))).trim();
  }

  async patch(namespace: string, resource: string, patch: object): Promise<string> {
    return (
      await this.run(['-n', namespace, 'patch', resource, '--type', 'merge', '-p', JSON.stringify(patch)])
    ).trim();
  }

  runtime(namespace: string, name: string): Promise<NexusRuntime> {
    return this.json<NexusRuntime>(['-n', namespace, 'get', 'nexusruntime', name]);
  }

  async pods(namespace: string, selector: string): Promise<readonly Pod[]> {
    return (await this.json<List<Pod>>(['-n', namespace, 'get', 'pods', '-l', selector])).items;
  }
}

/** The label selector of a runtime's kernel pods (the operator's selector labels). */
export const kernelSelector = (name: string): string =>
  `app.kubernetes.io/name=workspace-kernel,app.kubernetes.io/instance=${name}`;
