import { type Hop, nextHop } from './redirect.js';

const post: Hop = {
  method: 'POST',
  url: new URL('https://api.example.com/a/b?x=1'),
  headers: {
    Authorization: 'Bearer secret',
    cookie: 'session=1',
    'Proxy-Authorization': 'Basic eA==',
    'X-Api-Key': 'key',
    'Content-Type': 'application/json',
    accept: 'application/json',
  },
  body: '{"a":1}',
};

describe('nextHop', () => {
  it('keeps method, body and credentials on a same-origin 307/308', () => {
    for (const status of [307, 308]) {
      const hop = nextHop(post, status, '/c');
      expect(hop).toEqual({ ...post, url: new URL('https://api.example.com/c') });
    }
  });

  it('drops credentials when the redirect leaves the origin', () => {
    for (const location of [
      'https://other.example.com/c',
      'http://api.example.com/c',
      'https://api.example.com:8443/c',
    ]) {
      expect(nextHop(post, 307, location).headers).toEqual({
        'X-Api-Key': 'key',
        'Content-Type': 'application/json',
        accept: 'application/json',
      });
    }
  });

  it('drops the headers the handler marked as credentials too', () => {
    expect(nextHop(post, 307, 'https://other.example.com/', new Set(['x-api-key'])).headers).toEqual({
      'Content-Type': 'application/json',
      accept: 'application/json',
    });
    expect(nextHop(post, 307, '/same', new Set(['x-api-key'])).headers['X-Api-Key']).toBe('key');
  });

  it('turns 303, and 301/302 after a POST, into a GET without a body', () => {
    for (const status of [301, 302, 303]) {
      const hop = nextHop(post, status, '/c');
      expect(hop.method).toBe('GET');
      expect(hop.body).toBeUndefined();
      expect(hop.headers).toEqual({
        Authorization: 'Bearer secret',
        cookie: 'session=1',
        'Proxy-Authorization': 'Basic eA==',
        'X-Api-Key': 'key',
        accept: 'application/json',
      });
    }
    const put: Hop = { ...post, method: 'PUT' };
    expect(nextHop(put, 302, '/c')).toMatchObject({ method: 'PUT', body: '{"a":1}' });
    expect(nextHop(put, 303, '/c')).toMatchObject({ method: 'GET' });
    expect(nextHop({ ...post, method: 'GET', body: undefined }, 303, '/c').method).toBe('GET');
  });

  it('refuses a location that is not a URL', () => {
    expect(() => nextHop(post, 302, 'http://[bad')).toThrow(
      'the redirect to "http://[bad" is not a valid URL',
    );
  });
});
