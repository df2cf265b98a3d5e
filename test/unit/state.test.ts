import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stateDir } from '../../infra/local/state.ts';

describe('stateDir', () => {
  // A project (a folder with a package.json) with a subfolder, and a folder outside any project.
  const root = mkdtempSync(join(tmpdir(), 'signet-state-dir-'));
  const project = join(root, 'project');
  const sub = join(project, 'samples', 'deep');
  mkdirSync(sub, { recursive: true });
  writeFileSync(join(project, 'package.json'), '{}');
  const outside = join(root, 'outside');
  mkdirSync(outside);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each([
    ['unset, in the project folder', {}, () => project, () => join(project, '.signet')],
    ['unset, in a subfolder of the project', {}, () => sub, () => join(project, '.signet')],
    ['empty', { SIGNET_STATE_DIR: '' }, () => sub, () => join(project, '.signet')],
    ['blank', { SIGNET_STATE_DIR: '  ' }, () => sub, () => join(project, '.signet')],
    ['set', { SIGNET_STATE_DIR: '/tmp/signet-state' }, () => sub, () => '/tmp/signet-state'],
    ['relative (to the working folder)', { SIGNET_STATE_DIR: 'state' }, () => sub, () => join(sub, 'state')],
  ])('%s SIGNET_STATE_DIR → the right folder', (_, env, cwd, expected) => {
    // Act
    const dir = stateDir(env, cwd());

    // Assess
    expect(dir).toBe(expected());
  });

  it('reads a relative SIGNET_STATE_DIR from where npm was typed (INIT_CWD), as npm start and npx agree', () => {
    // Act: `npm start` runs in the project folder; npm says where it was typed.
    const dir = stateDir({ SIGNET_STATE_DIR: 'state', INIT_CWD: sub }, project);

    // Assess
    expect(dir).toBe(join(sub, 'state'));
  });

  it('looks for the project folder from where the command runs, not from INIT_CWD', () => {
    // Act: `npm --prefix <project> start` typed in another project's folder.
    const dir = stateDir({ INIT_CWD: outside }, sub);

    // Assess
    expect(dir).toBe(join(project, '.signet'));
  });

  it('uses the working folder when no folder up from it holds a package.json', () => {
    // Act
    const dir = stateDir({}, outside);

    // Assess
    expect(dir).toBe(join(outside, '.signet'));
  });
});
