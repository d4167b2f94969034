import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { FilePersistence, type PanelRecord } from './persistence.js';

const logger = pino({ level: 'silent' });

function record(id: string, version: number): PanelRecord {
  return {
    format: 1,
    id,
    createdAt: '2026-01-01T00:00:00.000Z',
    definition: { title: 't' },
    state: { version },
    version,
  };
}

describe('FilePersistence', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'nexus-persist-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('writes the latest snapshot of a burst and reads it back', async () => {
    const store = new FilePersistence(directory, logger);
    await store.loadAll();
    let snapshots = 0;
    for (let version = 1; version <= 50; version += 1) {
      store.save('p1', () => {
        snapshots += 1;
        return record('p1', version);
      });
    }
    await store.flush();
    expect(snapshots).toBeLessThanOrEqual(2);
    expect(JSON.parse(await readFile(join(directory, 'p1.json'), 'utf8'))).toEqual(record('p1', 50));
    expect(await new FilePersistence(directory, logger).loadAll()).toEqual([record('p1', 50)]);
    expect(await readdir(directory)).toEqual(['p1.json']);
  });

  it('removes a panel even while a write is pending', async () => {
    const store = new FilePersistence(directory, logger);
    await store.loadAll();
    store.save('p2', () => record('p2', 1));
    await store.remove('p2');
    await store.flush();
    expect(await readdir(directory)).toEqual([]);
  });

  it('sets corrupt files aside, drops leftover temporary files and refuses ids that cannot name a file', async () => {
    await writeFile(join(directory, 'bad.json'), '{"format":1,');
    await writeFile(join(directory, 'other.json'), JSON.stringify(record('mismatch', 1)));
    await writeFile(join(directory, 'p3.json.1.1.tmp'), 'partial');
    await writeFile(join(directory, 'p3.json'), JSON.stringify(record('p3', 3)));
    const store = new FilePersistence(directory, logger);
    expect(await store.loadAll()).toEqual([record('p3', 3)]);
    expect((await readdir(directory)).sort()).toEqual(['bad.json.corrupt', 'other.json.corrupt', 'p3.json']);
    expect(() => store.save('../escape', () => record('x', 1))).toThrow('cannot name a file');
  });
});
