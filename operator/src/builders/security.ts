// The pod and container hardening shared by the kernels and the managed store.
import type { V1PodSpec, V1SecurityContext } from '@kubernetes/client-node';
import { KERNEL_UID } from './plan.js';

/** Non-root with a fixed uid, seccomp RuntimeDefault, no service-account token, no service links. */
export function hardenedPod(): Pick<
  V1PodSpec,
  'automountServiceAccountToken' | 'enableServiceLinks' | 'securityContext'
> {
  return {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: KERNEL_UID,
      runAsGroup: KERNEL_UID,
      fsGroup: KERNEL_UID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

/** Read-only root filesystem, no privilege escalation, every capability dropped. */
export function hardenedContainer(): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
  };
}
