// `startDev` called twice in one process, as a tool embedding the local stack may do.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDev } from '../../infra/local/dev.ts';
import { mintToken } from '../../infra/local/issuer.ts';
import { VIAS } from './helpers.ts';

describe('startDev twice in one process', () => {
  let samples: string;
  let stateDir: string;

  beforeAll(async () => {
    samples = await mkdtemp(join(tmpdir(), 'signet-samples-'));
    await writeFile(join(samples, 'a.txt'), 'hello');
    stateDir = await mkdtemp(join(tmpdir(), 'signet-e2e-twice-'));
  });

  afterAll(async () => {
    await rm(samples, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  it('each start is a cold start: the second serves with its own ports and issuer', async () => {
    // Prepare
    const options = { stateDir, edgePort: 0, s3Port: 0, issuerPort: 0, dynamodbPort: 0, samplesDir: samples };
    const statuses: number[] = [];

    for (let start = 0; start < 2; start++) {
      // Act
      const stack = await startDev(options);
      try {
        const { edge, issuer, audience } = stack.endpoints;
        const token = await mintToken(stateDir, {
          issuer,
          audience,
          sub: 'dev-user',
          scope: 'downloads:all',
        });
        for (const via of VIAS) {
          const res = await fetch(`${edge}/d/a.txt?via=${via}`, {
            headers: { authorization: `Bearer ${token}` },
            redirect: 'manual',
          });
          statuses.push(res.status);
          // Assess: the redirect names this start's own endpoints.
          const location = new URL(res.headers.get('location') ?? 'http://none');
          expect(location.origin).toBe(via === 'cdn' ? edge : stack.endpoints.s3);
        }
      } finally {
        await stack.close();
      }
    }

    // Assess
    expect(statuses).toEqual([302, 302, 302, 302]);
  });

  it("takes the handlers' settings from the env it is given, and leaves process.env alone", async () => {
    // Prepare
    const before = { ...process.env };
    const env = { SIGNET_URL_TTL_SECONDS: '120', SIGNET_DEFAULT_VIA: 's3' };
    const stack = await startDev({
      stateDir,
      edgePort: 0,
      s3Port: 0,
      issuerPort: 0,
      dynamodbPort: 0,
      samplesDir: samples,
      env,
    });
    try {
      const { edge, issuer, audience } = stack.endpoints;
      const token = await mintToken(stateDir, { issuer, audience, sub: 'dev-user', scope: 'downloads:all' });

      // Act: no via, so the given default decides.
      const res = await fetch(`${edge}/d/a.txt`, {
        headers: { authorization: `Bearer ${token}` },
        redirect: 'manual',
      });

      // Assess
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location') ?? 'http://none');
      expect(location.origin).toBe(stack.endpoints.s3);
      expect(location.searchParams.get('X-Amz-Expires')).toBe('120');
      expect(env).toEqual({ SIGNET_URL_TTL_SECONDS: '120', SIGNET_DEFAULT_VIA: 's3' });
      expect(process.env).toEqual(before);
    } finally {
      await stack.close();
    }
  });

  it.each([
    ['inside it', (samplesDir: string) => join(samplesDir, 'state')],
    ['the samples folder itself', (samplesDir: string) => samplesDir],
  ])('refuses a state folder %s: its keys would be uploaded with the samples', async (_, inside) => {
    // Act
    const start = startDev({
      stateDir: inside(samples),
      edgePort: 0,
      s3Port: 0,
      issuerPort: 0,
      dynamodbPort: 0,
      samplesDir: samples,
    });

    // Assess: refused before anything is made there.
    await expect(start).rejects.toThrow('is inside the samples folder');
    await expect(readdir(samples)).resolves.toEqual(['a.txt']);
  });
});
