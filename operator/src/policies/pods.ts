// What the runtime's pods say that a Deployment's or StatefulSet's counters do not: a pod the
// scheduler cannot place, an image that cannot be pulled, a container that keeps crashing or
// cannot be created. Counters only show "0 available" until progressDeadlineSeconds (10 min) runs
// out; the pods know the reason at once. Pure: the reconciler gathers the pods from its cache.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { Component } from '../api/children.js';
import { Reason } from '../api/conditions.js';
import { APP_NAME, LABEL } from '../api/labels.js';

export const PodProblemReason = {
  PodUnschedulable: Reason.PodUnschedulable,
  ImagePullFailed: Reason.ImagePullFailed,
  CrashLooping: Reason.CrashLooping,
  ContainerConfigError: Reason.ContainerConfigError,
} as const;
export type PodProblemReason = (typeof PodProblemReason)[keyof typeof PodProblemReason];

export interface PodProblem {
  pod: string;
  component: Component;
  reason: PodProblemReason;
  /** A sentence naming the pod and what its status says. */
  message: string;
}

/** The waiting reasons of a container that will not start until someone changes something. */
const IMAGE_PULL = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const CONFIG = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);
/**
 * Restarts after which a container that is not ready counts as crash-looping even while it runs
 * between two back-offs, so the problem does not blink on and off with every restart.
 */
export const CRASH_RESTARTS = 2;

/**
 * The scheduler's word for a pod whose claim is still being bound: every new store pod says it
 * for a moment. Not a problem of the pod; a claim that never binds shows in StoreReady.
 */
const WAITING_FOR_VOLUME = /unbound immediate PersistentVolumeClaims/;

const componentOf = (pod: V1Pod): Component =>
  pod.metadata?.labels?.[LABEL.name] === APP_NAME[Component.Store] ? Component.Store : Component.Kernel;

const sentence = (text: string | undefined) => (text ?? '').trim().replace(/\.$/, '');

function containerProblem(pod: string, component: Component, c: V1ContainerStatus): PodProblem | undefined {
  const who = `${component} pod ${pod}`;
  const waiting = c.state?.waiting;
  const reason = waiting?.reason ?? '';
  const detail = sentence(waiting?.message);
  if (IMAGE_PULL.has(reason)) {
    return {
      pod,
      component,
      reason: Reason.ImagePullFailed,
      message: `${who} cannot pull image ${c.image}: ${reason}${detail ? ` (${detail})` : ''}`,
    };
  }
  if (CONFIG.has(reason)) {
    return {
      pod,
      component,
      reason: Reason.ContainerConfigError,
      message: `${who} cannot start container ${c.name}: ${reason}${detail ? ` (${detail})` : ''}`,
    };
  }
  const restarts = c.restartCount ?? 0;
  if (reason === 'CrashLoopBackOff' || (!c.ready && restarts >= CRASH_RESTARTS && c.lastState?.terminated)) {
    const last = c.lastState?.terminated;
    const exit = last
      ? `; last exit: ${last.reason ?? 'Error'}, code ${last.exitCode}${last.message ? ` (${sentence(last.message)})` : ''}`
      : '';
    return {
      pod,
      component,
      reason: Reason.CrashLooping,
      message: `${who} is crash-looping: container ${c.name} restarted ${restarts} times${exit}`,
    };
  }
  return undefined;
}

/** The problems of each pod (at most one per pod: the first that stops it), in pod-name order. */
export function podProblems(pods: readonly V1Pod[]): PodProblem[] {
  const problems: PodProblem[] = [];
  const live = pods
    .filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded')
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const pod of live) {
    const name = pod.metadata?.name ?? '';
    const component = componentOf(pod);
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (
      scheduled?.status === 'False' &&
      scheduled.reason === 'Unschedulable' &&
      !WAITING_FOR_VOLUME.test(scheduled.message ?? '')
    ) {
      problems.push({
        pod: name,
        component,
        reason: Reason.PodUnschedulable,
        message: `${component} pod ${name} cannot be scheduled: ${sentence(scheduled.message) || 'no node fits it'}`,
      });
      continue;
    }
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const status of statuses) {
      const problem = containerProblem(name, component, status);
      if (problem) {
        problems.push(problem);
        break;
      }
    }
  }
  // Kernel pods first: they serve the requests.
  return [
    ...problems.filter((p) => p.component === Component.Kernel),
    ...problems.filter((p) => p.component === Component.Store),
  ];
}

/** One line for a condition: the first problem, and how many more there are. */
export function summarizeProblems(problems: readonly PodProblem[]): string | undefined {
  const [first, ...rest] = problems;
  if (!first) return undefined;
  if (rest.length === 0) return first.message;
  const others = rest.map((p) => `${p.pod}: ${p.reason}`).join(', ');
  return `${first.message} (and ${rest.length} more: ${others})`;
}

export const problemKey = (p: PodProblem) => `${p.pod}/${p.reason}`;

/** The problems not reported before: each (pod, reason) gets one Event when it appears. */
export function newProblems(reported: ReadonlySet<string>, problems: readonly PodProblem[]): PodProblem[] {
  return problems.filter((p) => !reported.has(problemKey(p)));
}
