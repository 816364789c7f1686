import { useBearerToken, withBearer } from './api';

afterEach(() => useBearerToken(null));

describe('withBearer: one credential per request', () => {
  it('adds the staff token to staff calls', () => {
    useBearerToken('t0k3n');
    expect(withBearer({ accept: 'application/json' })).toEqual({ authorization: 'Bearer t0k3n', accept: 'application/json' });
  });

  it('leaves a call that carries the tenant API key with that key only (an operator token has no insights scope)', () => {
    useBearerToken('t0k3n');
    expect(withBearer({ accept: 'application/json', 'x-api-key': 'tsk_a_b' })).toEqual({
      accept: 'application/json',
      'x-api-key': 'tsk_a_b',
    });
    expect(withBearer({ 'X-Api-Key': 'tsk_a_b' })).toEqual({ 'X-Api-Key': 'tsk_a_b' });
  });

  it('sends no authorization header without a token', () => {
    expect(withBearer({ accept: 'application/json' })).toEqual({ accept: 'application/json' });
  });
});
