import { describeError, statusCode } from './errors.js';

describe('describeError', () => {
  it('prefers the API status message and the code', () => {
    expect(
      describeError({ code: 409, body: JSON.stringify({ message: 'the object has been modified' }) }),
    ).toBe('409 the object has been modified');
    expect(describeError(new Error('socket hang up'))).toBe('socket hang up');
    expect(describeError('plain')).toBe('plain');
  });
});

describe('statusCode', () => {
  it('reads a numeric code and nothing else', () => {
    expect(statusCode({ code: 404 })).toBe(404);
    expect(statusCode({ code: 'ECONNREFUSED' })).toBeUndefined();
    expect(statusCode(new Error('x'))).toBeUndefined();
    expect(statusCode(undefined)).toBeUndefined();
  });
});
