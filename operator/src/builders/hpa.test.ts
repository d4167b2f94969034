import { plan } from '../testing/fixtures.js';
import { buildHpa } from './hpa.js';

describe('the HorizontalPodAutoscaler', () => {
  it('targets the Deployment on 80% memory and 80% CPU utilization by default', () => {
    const hpa = buildHpa(plan());
    expect(hpa?.apiVersion).toBe('autoscaling/v2');
    expect(hpa?.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'demo' },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 80 } },
        },
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
        },
      ],
    });
  });

  it('takes the CPU target and behavior given', () => {
    const behavior = { scaleDown: { stabilizationWindowSeconds: 60 } };
    const hpa = buildHpa(
      plan({ autoscaling: { targetCPUUtilizationPercentage: 70, behavior, minReplicas: 2, maxReplicas: 4 } }),
    );
    expect(hpa?.spec?.metrics?.[1]).toEqual({
      type: 'Resource',
      resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
    });
    expect(hpa?.spec?.behavior).toEqual(behavior);
    expect(hpa?.spec).toMatchObject({ minReplicas: 2, maxReplicas: 4 });
  });

  it('does not exist when autoscaling is off or the runtime is suspended', () => {
    expect(buildHpa(plan({ autoscaling: { enabled: false } }))).toBeUndefined();
    expect(buildHpa(plan({ suspend: true }))).toBeUndefined();
  });
});
