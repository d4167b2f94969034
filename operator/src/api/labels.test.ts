import { MANAGED_SELECTOR, commonLabels, labelSelectorString, selectorLabels } from './labels.js';

describe('labels', () => {
  it('select kernels by name and instance, and mark everything as ours', () => {
    expect(selectorLabels('x')).toEqual({
      'app.kubernetes.io/name': 'workspace-kernel',
      'app.kubernetes.io/instance': 'x',
    });
    expect(commonLabels('x')['app.kubernetes.io/managed-by']).toBe('nexus-operator');
    expect(commonLabels('x')).not.toHaveProperty(['app.kubernetes.io/component']);
    expect(MANAGED_SELECTOR).toBe('app.kubernetes.io/managed-by=nexus-operator');
  });

  it('give store pods a name no kernel selector matches', () => {
    expect(selectorLabels('x', 'store')).toEqual({
      'app.kubernetes.io/name': 'nexus-store',
      'app.kubernetes.io/instance': 'x',
    });
    expect(commonLabels('x', 'store')).toMatchObject({
      'app.kubernetes.io/component': 'store',
      'app.kubernetes.io/managed-by': 'nexus-operator',
    });
  });

  it('render as a selector string for the scale subresource', () => {
    expect(labelSelectorString(selectorLabels('x'))).toBe(
      'app.kubernetes.io/name=workspace-kernel,app.kubernetes.io/instance=x',
    );
  });
});
