import { parseByteSize } from './units.js';

describe('parseByteSize', () => {
  it.each([
    ['1048576', 1048576],
    ['100kb', 100_000],
    ['1mb', 1_000_000],
    ['1MB', 1_000_000],
    ['128Mi', 134_217_728],
    ['1.5 KiB', 1536],
    ['2g', 2_000_000_000],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(['', 'mb', '-1', '1 parsec', '1e9', '0x10'])('%s is not a size', (text) => {
    expect(parseByteSize(text)).toBeUndefined();
  });
});
