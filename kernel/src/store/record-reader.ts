// Reads a panel file's JSON keeping only the history it may keep. A file's history can be far
// larger than the budgets a kernel runs with (written with larger ones, or by hand); parsing it
// whole would hold every frame as a string at once. Here the history array is walked in the
// file's bytes, and only the newest frames within the budgets are decoded, so reading a file
// costs its bytes plus what is kept.

/** How much history a reader keeps: the newest frames within both. */
export interface HistoryBudget {
  readonly historyLength: number;
  readonly historyBytes: number;
}

export const KEEP_ALL_HISTORY: HistoryBudget = { historyLength: Infinity, historyBytes: Infinity };

const HISTORY_KEY = Buffer.from(',"history":[');
/** How this store's writer starts a file (files.ts recordText): its history is its last array. */
const WRITTEN_HERE = Buffer.from('{"format":2,');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const CLOSE = 0x5d;

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * The file's JSON value, its `history` the newest frames within `budget`. Files this store wrote
 * (format 2, files.ts) hold the history after the state, as an array of strings; its frames are
 * JSON strings, so the key's byte sequence cannot occur inside them and its last occurrence is
 * the real one. Anything else (format 1) is parsed whole.
 */
export function parseRecordBytes(bytes: Buffer, budget: HistoryBudget): unknown {
  const at = bytes.subarray(0, WRITTEN_HERE.length).equals(WRITTEN_HERE)
    ? bytes.lastIndexOf(HISTORY_KEY)
    : -1;
  if (at < 0) return JSON.parse(bytes.toString('utf8'));
  const frames: [number, number][] = [];
  let position = at + HISTORY_KEY.length;
  const skipSpace = (): void => {
    while (isSpace(bytes[position])) position += 1;
  };
  skipSpace();
  if (bytes[position] === CLOSE) {
    position += 1;
  } else {
    for (;;) {
      skipSpace();
      if (bytes[position] !== QUOTE) throw new Error('the history holds something other than strings');
      const start = position;
      position += 1;
      while (position < bytes.length && bytes[position] !== QUOTE)
        position += bytes[position] === BACKSLASH ? 2 : 1;
      if (position >= bytes.length) throw new Error('the history ends inside a frame');
      position += 1;
      frames.push([start, position]);
      skipSpace();
      if (bytes[position] === COMMA) {
        position += 1;
        continue;
      }
      if (bytes[position] === CLOSE) {
        position += 1;
        break;
      }
      throw new Error('the history is not an array of strings');
    }
  }
  // The newest frames that fit, decoded one at a time from the newest.
  const kept: string[] = [];
  let keptBytes = 0;
  for (let i = frames.length - 1; i >= 0 && kept.length < budget.historyLength; i -= 1) {
    const [start, end] = frames[i]!;
    // A frame's text is at least its decoded bytes / 6 (\uXXXX escapes): too long to fit at all.
    if ((end - start - 2) / 6 > budget.historyBytes - keptBytes) break;
    const frame = JSON.parse(bytes.toString('utf8', start, end)) as string;
    const size = Buffer.byteLength(frame);
    if (keptBytes + size > budget.historyBytes) break;
    keptBytes += size;
    kept.push(frame);
  }
  kept.reverse();
  // What follows the history (`}`, or `,"phase":...}`) and what precedes it, without it.
  const value = JSON.parse(
    `${bytes.toString('utf8', 0, at)}${bytes.toString('utf8', position, bytes.length)}`,
  ) as Record<string, unknown>;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('not a JSON object');
  value.history = kept;
  return value;
}
