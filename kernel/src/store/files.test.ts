import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { FilePersistence, type PanelRecord, recordText } from './files.js';

const logger = pino({ level: 'silent' });

function record(id: string, version: number): PanelRecord & { epoch: string } {
  return {
    id,
    createdAt: '2026-01-01T00:00:00.000Z',
    epoch: 'e1',
    version,
    definition: '{"title":"t","tools":{}}',
    revision: 1,
    revisions: [
      { revision: 1, createdAt: '2026-01-01T00:00:00.000Z', definition: '{"title":"t","tools":{}}' },
    ],
    state: new Map([
      ['version', String(version)],
      ['__proto__', '{"polluted":true}'],
    ]),
    history: [`{"type":"PATCH","version":${version}}`],
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

  it('writes the latest snapshot of a burst and reads it back, values and history as they were', async () => {
    const store = new FilePersistence(directory, logger);
    await store.loadAll();
    let snapshots = 0;
    for (let version = 1; version <= 50; version += 1) {
      store.save('p1', () => {
        snapshots += 1;
        return recordText(record('p1', version));
      });
    }
    await store.flush();
    expect(snapshots).toBeLessThanOrEqual(2);
    const file = JSON.parse(await readFile(join(directory, 'p1.json'), 'utf8')) as Record<string, unknown>;
    expect(file).toMatchObject({ format: 2, id: 'p1', epoch: 'e1', version: 50, definition: { title: 't' } });
    expect(await new FilePersistence(directory, logger).loadAll()).toEqual([record('p1', 50)]);
    expect(await readdir(directory)).toEqual(['p1.json']);
  });

  it('reads format 1 files (no epoch, no history)', async () => {
    await writeFile(
      join(directory, 'old.json'),
      JSON.stringify({
        format: 1,
        id: 'old',
        createdAt: '2026-01-01T00:00:00.000Z',
        definition: { title: 'old' },
        state: { count: 3 },
        version: 3,
      }),
    );
    const [loaded] = await new FilePersistence(directory, logger).loadAll();
    expect(loaded).toEqual({
      id: 'old',
      createdAt: '2026-01-01T00:00:00.000Z',
      version: 3,
      definition: '{"title":"old"}',
      revision: 1,
      revisions: [{ revision: 1, createdAt: '2026-01-01T00:00:00.000Z', definition: '{"title":"old"}' }],
      state: new Map([['count', '3']]),
      history: [],
    });
  });

  it('removes a panel even while a write is pending, and moves imported files aside', async () => {
    const store = new FilePersistence(directory, logger);
    await store.loadAll();
    store.save('p2', () => recordText(record('p2', 1)));
    await store.remove('p2');
    store.save('p3', () => recordText(record('p3', 1)));
    await store.flush();
    await store.retire('p3');
    expect(await readdir(directory)).toEqual(['p3.json.imported']);
    expect(await store.loadAll()).toEqual([]);
  });

  it('sets corrupt files aside, drops leftover temporary files and refuses ids that cannot name a file', async () => {
    await writeFile(join(directory, 'bad.json'), '{"format":2,');
    await writeFile(join(directory, 'other.json'), recordText(record('mismatch', 1)));
    await writeFile(join(directory, 'p3.json.1.1.tmp'), 'partial');
    await writeFile(join(directory, 'p3.json'), recordText(record('p3', 3)));
    const store = new FilePersistence(directory, logger);
    expect(await store.loadAll()).toEqual([record('p3', 3)]);
    expect((await readdir(directory)).sort()).toEqual(['bad.json.corrupt', 'other.json.corrupt', 'p3.json']);
    expect(() => store.save('../escape', () => '{}')).toThrow('cannot name a file');
  });
});
