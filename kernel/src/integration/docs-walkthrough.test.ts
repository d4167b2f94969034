// docs/panels.md, run: every `sh` block against a real kernel (the built one, as a child process),
// its answer checked against the `json` block after it; `json ws-send` blocks are sent on one
// WebSocket to the panel and `json ws-receive` blocks must arrive on it. The guide stays true.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type ChildKernel, makeDataDir, startChildKernel, TestSocket } from '../testing/kernel-harness.js';

const run = promisify(execFile);

interface Block {
  readonly info: string;
  readonly text: string;
}

/** The fenced blocks of a Markdown text, in order, with their info strings. */
export function fencedBlocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    info: m[1]!.trim(),
    text: m[2]!,
  }));
}

// Values that differ on every run: only their JSON type is compared.
const VOLATILE = new Set([
  'id',
  'panelId',
  'epoch',
  'createdAt',
  'requestId',
  'wsUrl',
  'durationUs',
  'cpuTimeUs',
  'wallTimeMs',
  'atMs',
]);

/**
 * Where `actual` differs from what the guide shows: every key shown must be there with the same
 * value (the same type for volatile ones); arrays have the shown length. Keys the guide leaves
 * out are not checked: its answers are trimmed.
 */
export function differences(shown: unknown, actual: unknown, path = '$', volatile = false): string[] {
  if (Array.isArray(shown)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, got ${JSON.stringify(actual)}`];
    if (actual.length !== shown.length)
      return [`${path}: expected ${shown.length} items, got ${JSON.stringify(actual)}`];
    return shown.flatMap((item, index) => differences(item, actual[index], `${path}[${index}]`));
  }
  if (shown !== null && typeof shown === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual))
      return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
    return Object.entries(shown).flatMap(([key, value]) =>
      key in actual
        ? differences(value, (actual as Record<string, unknown>)[key], `${path}.${key}`, VOLATILE.has(key))
        : [`${path}.${key}: missing`],
    );
  }
  if (volatile) return typeof shown === typeof actual ? [] : [`${path}: expected a ${typeof shown}`];
  return shown === actual
    ? []
    : [`${path}: expected ${JSON.stringify(shown)}, got ${JSON.stringify(actual)}`];
}

describe('differences', () => {
  it('finds a changed value, a missing key, a wrong length and a wrong type, and ignores volatile values', () => {
    expect(differences({ a: 1, id: 'x' }, { a: 1, id: 'y', extra: true })).toEqual([]);
    expect(differences({ a: 1 }, { a: 2 })).toEqual(['$.a: expected 1, got 2']);
    expect(differences({ a: 1 }, {})).toEqual(['$.a: missing']);
    expect(differences([1], [1, 2])).toHaveLength(1);
    expect(differences({ id: 'x' }, { id: 1 })).toHaveLength(1);
  });
});

describe('docs/panels.md against a real kernel (child process)', () => {
  const guide = readFileSync(fileURLToPath(new URL('../../../docs/panels.md', import.meta.url)), 'utf8');
  let dataDir: string;
  let child: ChildKernel | undefined;

  beforeAll(async () => {
    dataDir = await makeDataDir();
    child = await startChildKernel({}, dataDir);
  });
  afterAll(async () => {
    child?.process.kill('SIGKILL');
    await child?.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers every documented request as documented', async () => {
    const blocks = fencedBlocks(guide);
    const kinds = blocks.map((block) => block.info);
    expect(kinds.filter((kind) => kind === 'sh').length).toBeGreaterThanOrEqual(5);
    expect(kinds.filter((kind) => kind === 'json ws-receive').length).toBeGreaterThanOrEqual(4);

    const env: Record<string, string> = { ...(process.env as Record<string, string>), KERNEL: child!.url };
    let socket: TestSocket | undefined;
    let wsUrl: string | undefined;
    let lastAnswer: unknown;
    let checked = 0;
    try {
      for (const [index, block] of blocks.entries()) {
        const where = `docs/panels.md block ${index + 1} (${block.info})`;
        if (block.info === 'sh') {
          const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', block.text], {
            env,
            timeout: 30_000,
          });
          lastAnswer = JSON.parse(stdout) as unknown;
          // The first answer is the created panel: later commands use its id, as the guide says.
          const created = lastAnswer as { id?: string; wsUrl?: string };
          if (env.PANEL === undefined && typeof created.id === 'string') {
            env.PANEL = created.id;
            wsUrl = `${child!.wsUrl}/panels/${created.id}/ws`;
          }
          const next = blocks[index + 1];
          expect(next?.info).toBe('json');
          expect({ where, problems: differences(JSON.parse(next!.text), lastAnswer) }).toEqual({
            where,
            problems: [],
          });
          checked += 1;
        } else if (block.info === 'json ws-send' || block.info === 'json ws-receive') {
          if (socket === undefined) {
            expect(wsUrl).toBeDefined();
            socket = await TestSocket.open(wsUrl!);
          }
          const shown = JSON.parse(block.text) as Record<string, unknown>;
          if (block.info === 'json ws-send') {
            socket.send(shown);
          } else {
            // Messages of one type may come in any order with others: wait for one that matches.
            const received = await socket
              .next((message) => differences(shown, message).length === 0, 10_000)
              .catch((error: Error) => {
                throw new Error(`${where}: ${error.message}`);
              });
            expect(received.type).toBe(shown.type);
            checked += 1;
          }
        }
      }
      // The guide shows every PATCH its requests cause: a failed handler writes none. A PONG
      // after everything else proves every earlier frame has arrived.
      expect(socket).toBeDefined();
      socket!.send({ type: 'PING', id: 'walkthrough-end' });
      await socket!.next((message) => message.type === 'PONG' && message.id === 'walkthrough-end');
      const shownPatches = blocks
        .filter((block) => block.info === 'json ws-receive')
        .map((block) => JSON.parse(block.text) as Record<string, unknown>)
        .filter((message) => message.type === 'PATCH');
      const received = socket!.messages.filter((message) => message.type === 'PATCH');
      expect(received.map((message) => message.version)).toEqual(
        shownPatches.map((message) => message.version),
      );
      checked += 1;
    } finally {
      socket?.socket.terminate();
      await socket?.closed;
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });
});
