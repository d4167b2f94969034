// The Sentinel exchange against real Redis processes on 127.0.0.1: a primary with a password, a
// replica of it, and a Sentinel monitoring the primary that requires the same password (as a
// replicated managed store's pods run them). Stopped by PID after the file.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SentinelRoleReader } from '../controller/store-roles.js';
import { readRoles } from '../policies/store-roles.js';
import { freePortForTests } from '../testing/ports.js';
import { encodeCommand, exchange, parseReply } from './sentinel-client.js';

const PASSWORD = 'pw-of-the-store';
const dir = mkdtempSync(join(tmpdir(), 'nexus-sentinel-'));
const children: ChildProcess[] = [];
const ports = { primary: 0, replica: 0, sentinel: 0 };

function start(args: string[]): void {
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  children.push(child);
}

/** Polls `check` every 100 ms, at most `attempts` times. */
async function until(what: string, check: () => Promise<boolean>, attempts = 150): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not happen within ${attempts * 100} ms`);
}

const ask = () =>
  exchange('127.0.0.1', ports.sentinel, [
    ['AUTH', PASSWORD],
    ['SENTINEL', 'MASTER', 'nexus'],
    ['SENTINEL', 'REPLICAS', 'nexus'],
  ]);

beforeAll(async () => {
  ports.primary = await freePortForTests();
  ports.replica = await freePortForTests();
  ports.sentinel = await freePortForTests();
  const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', PASSWORD];
  start(['--port', String(ports.primary), ...common, '--dir', dir]);
  start([
    '--port',
    String(ports.replica),
    ...common,
    '--dir',
    dir,
    '--masterauth',
    PASSWORD,
    '--replicaof',
    '127.0.0.1',
    String(ports.primary),
    '--repl-diskless-sync-delay',
    '0',
  ]);
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${ports.sentinel}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `requirepass ${PASSWORD}`,
      `sentinel monitor nexus 127.0.0.1 ${ports.primary} 1`,
      `sentinel auth-pass nexus ${PASSWORD}`,
      '',
    ].join('\n'),
  );
  start([conf, '--sentinel']);
  // The Sentinel learns of the replica from the primary's INFO (every 10 s at most).
  await until(
    'the Sentinel to see the replica in sync',
    async () => {
      const [, master, replicas] = await ask();
      const roles = readRoles(master!, replicas!);
      return typeof roles !== 'string' && roles.replicasInSync === 1;
    },
    200,
  );
}, 30_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('asking a Sentinel over TCP', () => {
  it('reads the primary and the replicas in sync', async () => {
    const [auth, master, replicas] = await ask();
    expect(auth).toBe('OK');
    expect(readRoles(master!, replicas!)).toEqual({
      primary: '127.0.0.1',
      primaryDown: false,
      replicas: 1,
      replicasInSync: 1,
    });
  });

  it('returns an error reply as a value: a wrong password, an unknown master', async () => {
    const [auth] = await exchange('127.0.0.1', ports.sentinel, [['AUTH', 'wrong']]);
    expect(auth).toBeInstanceOf(Error);
    expect((auth as Error).message).toMatch(/WRONGPASS/);
    const [, unknown] = await exchange('127.0.0.1', ports.sentinel, [
      ['AUTH', PASSWORD],
      ['SENTINEL', 'MASTER', 'other'],
    ]);
    expect(readRoles(unknown!, [])).toMatch(/^SENTINEL MASTER: ERR No such master/);
  });

  it('rejects when nothing listens, and within its deadline when nothing answers', async () => {
    const closed = await freePortForTests();
    await expect(exchange('127.0.0.1', closed, [['PING']])).rejects.toThrow(/ECONNREFUSED/);
    // A Redis that never replies: one started then stopped with SIGSTOP.
    const port = await freePortForTests();
    const silent = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', ''], {
      stdio: 'ignore',
    });
    children.push(silent);
    await until(
      'the silent Redis to listen',
      async () => (await exchange('127.0.0.1', port, [['PING']]))[0] === 'PONG',
    );
    silent.kill('SIGSTOP');
    await expect(exchange('127.0.0.1', port, [['PING']], 200)).rejects.toThrow(
      /no answer from 127.0.0.1:\d+ within 200 ms/,
    );
    silent.kill('SIGKILL');
  });
});

describe("the operator's reading of a store's roles", () => {
  it('asks the next Sentinel when one does not answer, and names the first failure when none does', async () => {
    const gone = `127.0.0.1:${await freePortForTests()}`;
    const reader = new SentinelRoleReader();
    const sentinel = `127.0.0.1:${ports.sentinel}`;
    expect(await reader.read({ sentinels: [gone, sentinel], password: PASSWORD })).toMatchObject({
      primary: '127.0.0.1',
      replicasInSync: 1,
    });
    expect(await reader.read({ sentinels: [gone], password: PASSWORD })).toMatch(
      new RegExp(`^${gone}: .*ECONNREFUSED`),
    );
    expect(await reader.read({ sentinels: [sentinel], password: 'wrong' })).toMatch(
      /^127\.0\.0\.1:\d+: AUTH: WRONGPASS/,
    );
    expect(await reader.read({ sentinels: [], password: PASSWORD })).toBe('no Sentinel to ask');
  });
});

describe('RESP', () => {
  it('encodes commands and parses every reply type, waiting for incomplete ones', () => {
    expect(encodeCommand(['SENTINEL', 'MASTER', 'nexus'])).toBe(
      '*3\r\n$8\r\nSENTINEL\r\n$6\r\nMASTER\r\n$5\r\nnexus\r\n',
    );
    const reply = Buffer.from('*4\r\n+OK\r\n:42\r\n$-1\r\n*1\r\n$3\r\nabc\r\n');
    expect(parseReply(reply)).toEqual({ value: ['OK', 42, null, ['abc']], end: reply.length });
    expect(parseReply(reply.subarray(0, reply.length - 3))).toBeUndefined();
    expect(parseReply(Buffer.from('-ERR x\r\n'))?.value).toEqual(new Error('ERR x'));
    expect(() => parseReply(Buffer.from('?\r\n'))).toThrow(/not a RESP reply/);
  });
});
