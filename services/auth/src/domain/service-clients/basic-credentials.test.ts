import { describe, expect, it } from 'vitest';
import { clientCredentials, parseBasicCredentials } from './basic-credentials.js';

const basic = (raw: string) => `Basic ${Buffer.from(raw, 'utf8').toString('base64')}`;

describe('parseBasicCredentials', () => {
  it('decodes the form-urlencoded id and secret', () => {
    expect(parseBasicCredentials(basic('billing%3Aeu:s%C3%A9cret%3A1'))).toEqual({
      clientId: 'billing:eu',
      clientSecret: 'sécret:1',
    });
  });

  it('accepts the scheme in any case', () => {
    expect(parseBasicCredentials(basic('a:b').replace('Basic', 'bAsIc'))).toEqual({
      clientId: 'a',
      clientSecret: 'b',
    });
  });

  it('ignores headers that are not Basic or carry no id', () => {
    expect(parseBasicCredentials(undefined)).toBeUndefined();
    expect(parseBasicCredentials('Bearer abc')).toBeUndefined();
    expect(parseBasicCredentials(basic('no-colon'))).toBeUndefined();
    expect(parseBasicCredentials(basic(':secret-only'))).toBeUndefined();
  });

  it('refuses broken percent-encoding as invalid_client', () => {
    expect(() => parseBasicCredentials(basic('a%ZZ:b'))).toThrow(
      expect.objectContaining({ code: 'invalid_client' }),
    );
  });
});

describe('clientCredentials', () => {
  it('prefers the header to the body', () => {
    expect(clientCredentials(basic('h:hs'), { client_id: 'b', client_secret: 'bs' })).toEqual({
      clientId: 'h',
      clientSecret: 'hs',
    });
  });

  it('falls back to the body', () => {
    expect(clientCredentials(undefined, { client_id: 'b', client_secret: 'bs' })).toEqual({
      clientId: 'b',
      clientSecret: 'bs',
    });
  });

  it('needs both parts', () => {
    expect(() => clientCredentials(undefined, { client_id: 'b' })).toThrow(
      expect.objectContaining({ code: 'invalid_client' }),
    );
  });
});
