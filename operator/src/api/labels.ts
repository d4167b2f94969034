// The labels every object of a runtime carries. Kernel pods are selected by name + instance;
// store pods carry a name of their own, so no kernel selector (Service, PDB, HPA) ever matches them.
import { Component } from './children.js';
import { FIELD_MANAGER } from './group.js';

export const LABEL = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** `app.kubernetes.io/name` of each component. */
export const APP_NAME: Record<Component, string> = {
  [Component.Kernel]: 'workspace-kernel',
  [Component.Store]: 'nexus-store',
};

/**
 * The labels a component's pods are selected by. Deployment and StatefulSet selectors are
 * immutable: never add to these.
 */
export function selectorLabels(runtimeName: string, component: Component = Component.Kernel) {
  return { [LABEL.name]: APP_NAME[component], [LABEL.instance]: runtimeName };
}

/** Labels on every object the operator creates; the informers watch by the managed-by label. */
export function commonLabels(
  runtimeName: string,
  component: Component = Component.Kernel,
): Record<string, string> {
  const labels: Record<string, string> = {
    ...selectorLabels(runtimeName, component),
    [LABEL.managedBy]: FIELD_MANAGER,
  };
  // Kernel objects predate components; a new label on their pod template would roll every pod.
  if (component !== Component.Kernel) labels[LABEL.component] = component;
  return labels;
}

export const MANAGED_SELECTOR = `${LABEL.managedBy}=${FIELD_MANAGER}`;

export function labelSelectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
