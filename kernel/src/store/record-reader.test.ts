// Reading a panel file within history budgets: the newest frames that fit are decoded, the rest
// of the file read as JSON, whatever its state holds.

import { recordText } from './files.js';
import { KEEP_ALL_HISTORY, parseRecordBytes } from './record-reader.js';

const text = (history: string[], phase?: 'deleting'): Buffer =>
  Buffer.from(
    recordText({
      id: 'p',
      createdAt: 'now',
      epoch: 'e',
      version: history.length,
      definition: '{"title":"t","tools":{}}',
      revision: 1,
      revisions: [],
      // A state whose text holds the history key's bytes too.
      state: new Map([['x', '{"a":1,"history":["not","frames"]}']]),
      history,
      ...(phase === undefined ? {} : { phase }),
    }),
  );

describe('parseRecordBytes', () => {
  const frames = ['{"v":1,"s":"quote \\" and \\\\ and é"}', '{"v":2}', `{"v":3,"pad":"${'p'.repeat(100)}"}`];

  it('reads everything when every frame may be kept', () => {
    expect(parseRecordBytes(text(frames), KEEP_ALL_HISTORY)).toEqual(JSON.parse(text(frames).toString()));
    expect(parseRecordBytes(text([]), KEEP_ALL_HISTORY)).toMatchObject({ history: [] });
  });

  it('keeps the newest frames within the count and the bytes', () => {
    expect(parseRecordBytes(text(frames), { historyLength: 2, historyBytes: 1000 })).toMatchObject({
      history: frames.slice(1),
      state: { x: { a: 1, history: ['not', 'frames'] } },
    });
    expect(parseRecordBytes(text(frames), { historyLength: 10, historyBytes: 100 })).toMatchObject({
      history: [],
    });
    const sized = Buffer.byteLength(frames[1]!) + Buffer.byteLength(frames[2]!);
    expect(parseRecordBytes(text(frames), { historyLength: 10, historyBytes: sized })).toMatchObject({
      history: frames.slice(1),
    });
  });

  it('reads what follows the history (a delete under way)', () => {
    expect(
      parseRecordBytes(text(frames, 'deleting'), { historyLength: 1, historyBytes: 1000 }),
    ).toMatchObject({
      phase: 'deleting',
      history: frames.slice(2),
    });
  });

  it('refuses a history that is not an array of strings', () => {
    expect(() => parseRecordBytes(Buffer.from('{"format":2,"history":[1]}'), KEEP_ALL_HISTORY)).toThrow();
    expect(() => parseRecordBytes(Buffer.from('{"format":2,"history":["x"'), KEEP_ALL_HISTORY)).toThrow();
  });

  it('parses other files whole (a format 1 state may hold the key)', () => {
    const format1 = '{"format":1,"id":"p","state":{"x":{"a":1,"history":["kept"]}}}';
    expect(parseRecordBytes(Buffer.from(format1), { historyLength: 0, historyBytes: 0 })).toEqual(
      JSON.parse(format1),
    );
  });
});
