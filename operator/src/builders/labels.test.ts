import { plan } from '../testing/fixtures.js';
import {
  MANAGED_SELECTOR,
  commonLabels,
  labelSelectorString,
  ownerReference,
  selectorLabels,
} from './labels.js';

describe('labels', () => {
  it('select by name and instance, and mark everything as ours', () => {
    expect(selectorLabels('x')).toEqual({
      'app.kubernetes.io/name': 'workspace-kernel',
      'app.kubernetes.io/instance': 'x',
    });
    expect(commonLabels('x')['app.kubernetes.io/managed-by']).toBe('nexus-operator');
    expect(MANAGED_SELECTOR).toBe('app.kubernetes.io/managed-by=nexus-operator');
  });

  it('render as a selector string for the scale subresource', () => {
    expect(labelSelectorString(selectorLabels('x'))).toBe(
      'app.kubernetes.io/name=workspace-kernel,app.kubernetes.io/instance=x',
    );
  });

  it('owner references make the runtime the controller', () => {
    expect(ownerReference(plan())).toMatchObject({
      kind: 'NexusRuntime',
      uid: 'uid-demo',
      controller: true,
      blockOwnerDeletion: true,
    });
  });
});
