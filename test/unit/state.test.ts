import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stateDir } from '../../infra/local/state.ts';

describe('stateDir', () => {
  it.each([
    ['unset', {}, resolve('.signet')],
    ['empty', { SIGNET_STATE_DIR: '' }, resolve('.signet')],
    ['blank', { SIGNET_STATE_DIR: '  ' }, resolve('.signet')],
    ['set', { SIGNET_STATE_DIR: '/tmp/signet-state' }, '/tmp/signet-state'],
    ['relative', { SIGNET_STATE_DIR: 'state' }, resolve('state')],
  ])('%s SIGNET_STATE_DIR → the right folder', (_, env, expected) => {
    // Act
    const dir = stateDir(env);

    // Assess
    expect(dir).toBe(expected);
  });
});
