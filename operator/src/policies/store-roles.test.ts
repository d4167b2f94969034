import { readRoles } from './store-roles.js';

const flat = (entries: Record<string, string>) => Object.entries(entries).flat();
const host = (i: number) => `demo-store-${i}.demo-store-pods.team-a.svc`;

describe("the Sentinels' answers", () => {
  it('name the primary by its pod, and count the replicas that are up with their link up', () => {
    const master = flat({ name: 'nexus', ip: host(1), port: '6379', flags: 'master', 'num-slaves': '2' });
    const replicas = [
      flat({ ip: host(0), port: '6379', flags: 'slave', 'master-link-status': 'ok' }),
      flat({ ip: host(2), port: '6379', flags: 'slave', 'master-link-status': 'err' }),
    ];
    expect(readRoles(master, replicas)).toEqual({
      primary: 'demo-store-1',
      primaryDown: false,
      replicas: 2,
      replicasInSync: 1,
    });
    const down = [
      flat({ ip: host(0), port: '6379', flags: 's_down,slave,disconnected', 'master-link-status': 'ok' }),
    ];
    expect(readRoles(master, down)).toMatchObject({ replicas: 1, replicasInSync: 0 });
  });

  it('say when the primary is down', () => {
    const master = flat({ name: 'nexus', ip: host(0), port: '6379', flags: 's_down,o_down,master' });
    expect(readRoles(master, [])).toMatchObject({ primary: 'demo-store-0', primaryDown: true });
  });

  it('are refused when they are errors or name no primary', () => {
    expect(readRoles(new Error('ERR No such master with that name'), [])).toBe(
      'SENTINEL MASTER: ERR No such master with that name',
    );
    expect(readRoles(flat({ name: 'nexus' }), [])).toBe('SENTINEL MASTER named no primary');
    expect(readRoles(flat({ ip: host(0) }), 'OK')).toBe('SENTINEL REPLICAS answered no list');
  });
});
