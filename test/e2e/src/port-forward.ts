// `kubectl port-forward` to a Service or a pod, on local ports kubectl picks: the way a user
// reaches the kernels from outside the cluster.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Kubectl } from './cluster.js';

export interface Forward {
  readonly target: string;
  readonly http: string;
  readonly ws: string;
  close(): void;
}

const READY_TIMEOUT_MS = 30_000;

/** Forwards the kernel's ports 3000 (HTTP) and 3001 (WebSocket) of `target` (svc/x or pod/x). */
export function portForward(kubectl: Kubectl, namespace: string, target: string): Promise<Forward> {
  const child: ChildProcess = spawn(
    kubectl.binary,
    ['--kubeconfig', kubectl.kubeconfig, '-n', namespace, 'port-forward', target, ':3000', ':3001'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    const ports = new Map<number, number>();
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`port-forward ${target}: no ports within 30s: ${output}`)),
      READY_TIMEOUT_MS,
    );
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.kill();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      for (const match of output.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)) {
        ports.set(Number(match[2]), Number(match[1]));
      }
      const http = ports.get(3000);
      const ws = ports.get(3001);
      if (http !== undefined && ws !== undefined) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve({
          target,
          http: `http://127.0.0.1:${http}`,
          ws: `ws://127.0.0.1:${ws}`,
          close: () => child.kill(),
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => fail(new Error(`port-forward ${target} exited (${code}): ${output}`)));
  });
}
