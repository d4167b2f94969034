import { ConfigError, DEFAULT_KERNEL_IMAGE, DEFAULT_STORE_IMAGE, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies the documented defaults and freezes the result', () => {
    const config = loadConfig({}, 'host-1');
    expect(config).toEqual({
      watchNamespace: '',
      logLevel: 'info',
      kernelImage: DEFAULT_KERNEL_IMAGE,
      storeImage: DEFAULT_STORE_IMAGE,
      metricsPort: 8080,
      leaderElect: false,
      leaderElectionNamespace: 'nexus-system',
      leaderElectionId: 'nexus-operator',
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
      identity: 'host-1',
      resyncPeriodSeconds: 300,
      maxConcurrentReconciles: 4,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(DEFAULT_KERNEL_IMAGE).toBe('localhost/nexus/workspace-kernel:0.1.0');
    expect(DEFAULT_STORE_IMAGE).toMatch(/^docker\.io\/library\/redis:7/);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      KUBECONFIG: '/tmp/kc',
      WATCH_NAMESPACE: 'team-a',
      LOG_LEVEL: 'debug',
      KERNEL_IMAGE: 'reg/kernel:2',
      STORE_IMAGE: 'reg/redis:7',
      METRICS_PORT: '9090',
      LEADER_ELECT: 'true',
      POD_NAMESPACE: 'ops',
      LEADER_ELECTION_ID: 'my-lease',
      LEASE_DURATION_SECONDS: '6',
      RENEW_DEADLINE_SECONDS: '4',
      RETRY_PERIOD_SECONDS: '1',
      POD_NAME: 'operator-0',
      RESYNC_PERIOD_SECONDS: '60',
      MAX_CONCURRENT_RECONCILES: '8',
    });
    expect(config).toMatchObject({
      kubeconfig: '/tmp/kc',
      watchNamespace: 'team-a',
      logLevel: 'debug',
      kernelImage: 'reg/kernel:2',
      storeImage: 'reg/redis:7',
      metricsPort: 9090,
      leaderElect: true,
      leaderElectionNamespace: 'ops',
      leaderElectionId: 'my-lease',
      leaseDurationSeconds: 6,
      renewDeadlineSeconds: 4,
      retryPeriodSeconds: 1,
      identity: 'operator-0',
      resyncPeriodSeconds: 60,
      maxConcurrentReconciles: 8,
    });
  });

  it('prefers LEADER_ELECTION_NAMESPACE over POD_NAMESPACE', () => {
    expect(loadConfig({ POD_NAMESPACE: 'a', LEADER_ELECTION_NAMESPACE: 'b' }).leaderElectionNamespace).toBe(
      'b',
    );
  });

  it.each([
    [{ METRICS_PORT: 'http' }, /METRICS_PORT="http" must be an integer from 1 to 65535/],
    [{ METRICS_PORT: '70000' }, /METRICS_PORT/],
    [{ LEADER_ELECT: 'maybe' }, /LEADER_ELECT="maybe" must be true or false/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud" must be one of trace, debug/],
    [{ WATCH_NAMESPACE: 'Not_A_Namespace' }, /WATCH_NAMESPACE/],
    [{ MAX_CONCURRENT_RECONCILES: '0' }, /MAX_CONCURRENT_RECONCILES/],
    [
      { LEADER_ELECT: 'true', RENEW_DEADLINE_SECONDS: '20' },
      /RENEW_DEADLINE_SECONDS \(20\) must be below LEASE_DURATION_SECONDS \(15\)/,
    ],
    [
      { LEADER_ELECT: 'true', RETRY_PERIOD_SECONDS: '10' },
      /RETRY_PERIOD_SECONDS \(10\) must be below RENEW_DEADLINE_SECONDS \(10\)/,
    ],
    [{ RESYNC_PERIOD_SECONDS: '-5' }, /RESYNC_PERIOD_SECONDS/],
    [{ STORE_IMAGE: 'redis 7' }, /STORE_IMAGE="redis 7" must not contain spaces/],
  ])('rejects %j naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reports every problem at once', () => {
    try {
      loadConfig({ METRICS_PORT: 'x', LOG_LEVEL: 'y' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as ConfigError).problems).toHaveLength(2);
    }
  });

  it('skips the lease timing checks when leader election is off', () => {
    expect(loadConfig({ LEADER_ELECT: 'false', RENEW_DEADLINE_SECONDS: '20' }).renewDeadlineSeconds).toBe(20);
  });

  it('runs without a lease unless asked (a process started by hand reconciles at once)', () => {
    expect(loadConfig({}).leaderElect).toBe(false);
  });
});
