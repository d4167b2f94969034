import { parseClientMessage } from './protocol.js';

describe('parseClientMessage', () => {
  it('parses every client message type', () => {
    expect(
      parseClientMessage('{"type":"TRIGGER","tool":"increment","args":{"by":2},"requestId":"r1"}'),
    ).toEqual({
      type: 'TRIGGER',
      tool: 'increment',
      args: { by: 2 },
      requestId: 'r1',
    });
    expect(parseClientMessage('{"type":"SUBSCRIBE"}')).toEqual({ type: 'SUBSCRIBE' });
    expect(parseClientMessage('{"type":"UNSUBSCRIBE"}')).toEqual({ type: 'UNSUBSCRIBE' });
    expect(parseClientMessage('{"type":"PING","id":7}')).toEqual({ type: 'PING', id: 7 });
  });

  it.each([
    ['not json', 'INVALID_JSON', 'not valid JSON'],
    ['[1,2]', 'MALFORMED_MESSAGE', 'must be a JSON object'],
    ['"PING"', 'MALFORMED_MESSAGE', 'must be a JSON object'],
    ['{}', 'MALFORMED_MESSAGE', 'unknown message type undefined'],
    ['{"type":"EXPLODE"}', 'MALFORMED_MESSAGE', 'unknown message type "EXPLODE"'],
    ['{"type":"TRIGGER"}', 'MALFORMED_MESSAGE', 'invalid TRIGGER message: /tool'],
    ['{"type":"TRIGGER","tool":5}', 'MALFORMED_MESSAGE', '/tool'],
    ['{"type":"TRIGGER","tool":"x","requestId":{}}', 'MALFORMED_MESSAGE', '/requestId'],
  ])('rejects %s with %s', (text, code, message) => {
    let caught: unknown;
    try {
      parseClientMessage(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code, message: expect.stringContaining(message) });
  });
});
