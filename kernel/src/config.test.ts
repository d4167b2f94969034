import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ConfigError, describeVariables, loadConfig } from './config.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults and freezes the result', () => {
    const config = loadConfig({ CACHE_DIR: '/var/cache/nexus' });
    expect(config.httpPort).toBe(3000);
    expect(config.wsPort).toBe(3001);
    expect(config.host).toBe('0.0.0.0');
    expect(config.runtime).toEqual({
      memoryLimitMb: 32,
      maxInstances: 10,
      minInstances: 1,
      timeoutMs: 5000,
      maxHostCalls: 10000,
      maxStateMutations: 1000,
      maxSuspensions: 256,
      maxEvents: 100,
      maxValueBytes: 16 * 1024 * 1024,
      maxEventBytes: 1024 * 1024,
    });
    expect(config.persistDir).toBe('/var/cache/nexus/panels');
    expect(config.bodyLimitBytes).toBe(1024 * 1024);
    expect(config.auth).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.runtime)).toBe(true);
  });

  it('reads every tuning variable the operator writes', () => {
    const config = loadConfig({
      MEMORY_LIMIT_MB: '64',
      MAX_INSTANCES: '20',
      MIN_INSTANCES: '2',
      TIMEOUT_MS: '1000',
      MAX_HOST_CALLS: '50',
      MAX_STATE_MUTATIONS: '60',
      MAX_EVENTS: '70',
      LOG_LEVEL: 'debug',
      CACHE_MAX_BYTES: '134217728',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      HTTP_ALLOWED_DOMAINS: 'api.example.com,127.0.0.1:4000',
      JWT_SECRET: 's3cret',
      BODY_LIMIT: '100kb',
    });
    expect(config.runtime.memoryLimitMb).toBe(64);
    expect(config.runtime.maxEvents).toBe(70);
    expect(config.logLevel).toBe('debug');
    expect(config.cacheMaxBytes).toBe(134217728);
    expect(config.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.httpExtension.allowedDomains).toHaveLength(2);
    expect(config.auth).toEqual({ secret: 's3cret', maxAgeSeconds: 86_400, clockSkewSeconds: 60 });
    expect(config.bodyLimitBytes).toBe(100_000);
  });

  it.each([
    ['HTTP_PORT', 'abc', 'an integer from 0 to 65535'],
    ['HTTP_PORT', '70000', 'an integer from 0 to 65535'],
    ['MEMORY_LIMIT_MB', '3', 'an integer from 4 to 1024'],
    ['MAX_INSTANCES', '0', 'an integer from 1 to 1000'],
    ['TIMEOUT_MS', '-5', 'an integer from 1 to 600000'],
    ['LOG_LEVEL', 'loud', 'one of fatal, error, warn, info, debug, trace, silent'],
    ['BODY_LIMIT', 'lots', 'a byte size'],
    ['HTTP_ALLOWED_DOMAINS', 'http://x.com', 'host:port'],
    ['STORE_KEY_PREFIX', 'team {a}', 'up to 64 characters without braces or spaces'],
    ['STORE_KEY_PREFIX', 'k'.repeat(65), 'up to 64 characters without braces or spaces'],
    ['ALLOWED_HOSTS', 'ok.example,https://x.example', '"https://x.example" is not a host name'],
    ['SERVICE_NAME', 'Not_A_Label', 'a DNS label'],
    ['HTTP_MAX_UNSENT_BYTES', '1kb', 'a byte size from 65536'],
    ['HTTP_PIPELINE_DEPTH', '0', 'an integer from 1 to 64'],
  ])('rejects %s=%s naming the variable, the value and the range', (name, value, accepted) => {
    const [problem] = problemsOf({ [name]: value });
    expect(problem).toContain(`${name}="${value}"`);
    expect(problem).toContain(accepted);
  });

  it('reports every bad variable at once and checks cross-field rules', () => {
    expect(
      problemsOf({ MAX_INSTANCES: '2', MIN_INSTANCES: '3', HTTP_PORT: '4000', WS_PORT: '4000' }),
    ).toEqual([
      'MIN_INSTANCES=3 is invalid: expected at most MAX_INSTANCES (2)',
      'WS_PORT=4000 is invalid: expected a port different from HTTP_PORT',
    ]);
  });

  it.each([
    ['http://:s3cret@redis.internal', 'has scheme "http"; redis or rediss is expected'],
    ['redis://:s3cret@redis.internal/cache', 'has path "/cache"; only a database number may follow the host'],
  ])('refuses STORE_URL=%s without showing it (it carries the password)', (url, problem) => {
    expect(problemsOf({ STORE_URL: url })).toEqual([
      `STORE_URL is invalid (${problem}): expected redis://[user][:password]@host[:port][/db] or rediss://… (unset: the embedded store)`,
    ]);
  });

  it('refuses a database other than 0 on Redis Cluster', () => {
    expect(problemsOf({ STORE_URL: 'redis://seed:7000/1', STORE_TOPOLOGY: 'cluster' })).toEqual([
      'STORE_URL selects database 1, but STORE_TOPOLOGY is cluster: Redis Cluster has database 0 only',
    ]);
    expect(loadConfig({ STORE_URL: 'redis://seed:7000/0', STORE_TOPOLOGY: 'cluster' }).store).toMatchObject({
      kind: 'redis',
      topology: 'cluster',
    });
  });

  it('reads a Sentinel topology: the Sentinels, the master name and the acknowledgement', () => {
    const store = loadConfig({
      STORE_URL: 'redis://:secret@sentinel-0:26379/2',
      STORE_TOPOLOGY: 'sentinel',
      STORE_SENTINELS: 'sentinel-1:26379, sentinel-0:26379,[fd00::2]:26380',
      STORE_SENTINEL_MASTER: 'panels',
    }).store;
    expect(store).toMatchObject({
      kind: 'redis',
      topology: 'sentinel',
      sentinel: {
        masterName: 'panels',
        nodes: [
          { host: 'sentinel-0', port: 26379 },
          { host: 'sentinel-1', port: 26379 },
          { host: 'fd00::2', port: 26380 },
        ],
      },
      ack: { replicas: 1, timeoutMs: 2000 },
    });
    // Without Sentinel, a commit is acknowledged once the primary has it, unless told otherwise.
    expect(loadConfig({ STORE_URL: 'redis://r:6379' }).store).toMatchObject({ ack: { replicas: 0 } });
    expect(
      loadConfig({ STORE_URL: 'redis://r:6379', STORE_ACK_REPLICAS: '2', STORE_ACK_TIMEOUT_MS: '500' }).store,
    ).toMatchObject({ ack: { replicas: 2, timeoutMs: 500 } });
    expect(
      loadConfig({ STORE_URL: 'redis://s:26379', STORE_TOPOLOGY: 'sentinel', STORE_ACK_REPLICAS: '0' }).store,
    ).toMatchObject({ sentinel: { masterName: 'nexus' }, ack: { replicas: 0 } });
  });

  it('refuses Sentinel settings without the Sentinel topology, and malformed Sentinels', () => {
    expect(problemsOf({ STORE_URL: 'redis://r:6379', STORE_SENTINELS: 'a:1' })).toEqual([
      'STORE_SENTINELS is set but STORE_TOPOLOGY is standalone: it is read with STORE_TOPOLOGY=sentinel only',
    ]);
    expect(
      problemsOf({ STORE_URL: 'redis://r:6379', STORE_TOPOLOGY: 'cluster', STORE_SENTINEL_MASTER: 'm' }),
    ).toEqual([
      'STORE_SENTINEL_MASTER is set but STORE_TOPOLOGY is cluster: it is read with STORE_TOPOLOGY=sentinel only',
    ]);
    expect(
      problemsOf({
        STORE_URL: 'redis://s:26379',
        STORE_TOPOLOGY: 'sentinel',
        STORE_SENTINELS: 'a:1,b,c:70000',
      }),
    ).toEqual([
      'STORE_SENTINELS is invalid ("b" is not host:port): expected a comma-separated list of host:port',
      'STORE_SENTINELS is invalid ("c:70000" has port 70000; expected 1 to 65535): expected a comma-separated list of host:port',
    ]);
    expect(problemsOf({ STORE_TOPOLOGY: 'sentinel', STORE_SENTINEL_MASTER: 'no spaces' })).toEqual([
      'STORE_SENTINEL_MASTER="no spaces" is invalid: expected up to 64 letters, digits, dots, underscores or dashes',
    ]);
    expect(problemsOf({ STORE_ACK_REPLICAS: '9', STORE_ACK_TIMEOUT_MS: '5' })).toEqual([
      'STORE_ACK_REPLICAS="9" is invalid: expected an integer from 0 to 8',
      'STORE_ACK_TIMEOUT_MS="5" is invalid: expected an integer from 10 to 60000',
    ]);
  });

  it('reads the HTTP connection bounds and the hosts the kernel answers to', () => {
    const defaults = loadConfig({});
    expect(defaults.http).toMatchObject({
      pipelineDepth: 2,
      maxPipelined: 64,
      maxUnsentBytes: 1024 * 1024,
      maxUnsentBytesTotal: 128 * 1024 * 1024,
      writeTimeoutMs: 30_000,
    });
    expect(defaults.metricsCacheMs).toBe(1000);
    expect(defaults.allowedHosts).toEqual({ extra: [] });
    const set = loadConfig({
      ALLOWED_HOSTS: 'Nexus.Example.com, *.apps.example.org',
      SERVICE_NAME: 'nexus',
      SERVICE_NAMESPACE: 'tools',
      HTTP_WRITE_TIMEOUT_MS: '5000',
    });
    expect(set.allowedHosts).toEqual({
      extra: ['nexus.example.com', '*.apps.example.org'],
      service: { name: 'nexus', namespace: 'tools' },
    });
    expect(set.http.writeTimeoutMs).toBe(5000);
  });

  it("refuses an event budget that a subscriber's send buffer could not hold, naming both", () => {
    const [problem] = problemsOf({ MAX_EVENT_BYTES: '3Mi', WS_MAX_BUFFERED_BYTES: '4Mi' });
    expect(problem).toContain('MAX_EVENT_BYTES=3145728 is invalid');
    expect(problem).toContain('WS_MAX_BUFFERED_BYTES=4194304');
    expect(problemsOf({ MAX_EVENT_BYTES: '1Mi', WS_MAX_BUFFERED_BYTES: '1.5Mi' })[0]).toContain(
      'MAX_EVENT_BYTES',
    );
    expect(loadConfig({ MAX_EVENT_BYTES: '3Mi', WS_MAX_BUFFERED_BYTES: '8Mi' }).runtime.maxEventBytes).toBe(
      3 * 1024 * 1024,
    );
    // Unset, it is 1 MiB or half of a smaller buffer; MAX_EVENTS plays no part (the sandbox counts
    // every event's framing against it).
    expect(loadConfig({ WS_MAX_BUFFERED_BYTES: '64000' }).runtime.maxEventBytes).toBe(32_000);
    expect(loadConfig({ MAX_EVENTS: '1000000' }).runtime.maxEventBytes).toBe(1024 * 1024);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ HTTP_PORT: '', JWT_SECRET: '' }).httpPort).toBe(3000);
    expect(loadConfig({ JWT_SECRET: ' ' }).auth).toBeUndefined();
  });
});

describe('the configuration table in docs/kernel.md', () => {
  const docs = readFileSync(new URL('../../docs/kernel.md', import.meta.url), 'utf8');
  const table = docs.slice(docs.indexOf('## Configuration'), docs.indexOf('## HTTP API'));

  it('lists exactly the variables the kernel reads', () => {
    const documented = [...table.matchAll(/^\| ([^|]+) \|/gm)]
      .flatMap((row) => [...row[1]!.matchAll(/`([A-Z_]+)`/g)].map((match) => match[1]!))
      .sort();
    expect(documented).toEqual(
      describeVariables()
        .map((variable) => variable.name)
        .sort(),
    );
  });

  it("gives each variable's default", () => {
    const defaults = new Map(
      [...table.matchAll(/^\| ([^|]+) \| ([^|]+) \|/gm)].flatMap((row) =>
        [...row[1]!.matchAll(/`([A-Z_]+)`/g)].map((match) => [match[1]!, row[2]!.trim()] as const),
      ),
    );
    const wrong = describeVariables()
      .filter((variable) => variable.fallback !== undefined)
      .map((variable) => ({
        name: variable.name,
        documented: defaults.get(variable.name),
        // The cache directory's default is below the kernel's own temporary directory.
        expected:
          variable.fallback === '' ? 'empty' : `\`${variable.fallback!.replace(tmpdir(), '$TMPDIR')}\``,
      }))
      .filter(({ documented, expected }) => !documented?.startsWith(expected));
    expect(wrong).toEqual([]);
  });
});
