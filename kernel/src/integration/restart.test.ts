// Panel state survives a restart of the kernel on the same directory.

import { rm } from 'node:fs/promises';
import request from 'supertest';
import { counterPanel, makeDataDir, startTestKernel } from '../testing/kernel-harness.js';

describe('restart and restore', () => {
  it('restores panels, their state and version, and keeps them working', async () => {
    const dataDir = await makeDataDir();
    try {
      const first = await startTestKernel({}, dataDir);
      const id = (await request(first.url).post('/panels').send(counterPanel).expect(201)).body.id as string;
      const gone = (await request(first.url).post('/panels').send(counterPanel).expect(201)).body
        .id as string;
      for (let index = 0; index < 20; index += 1) {
        await request(first.url).post(`/panels/${id}/trigger/increment`).send({ by: 1 }).expect(200);
      }
      await request(first.url).delete(`/panels/${gone}`).expect(200);
      await first.stop();

      const second = await startTestKernel({}, dataDir);
      try {
        await request(second.url)
          .get(`/panels/${id}/state`)
          .expect(200)
          .then((response) =>
            expect(response.body).toEqual({
              state: { count: 20, loading: false },
              version: 20,
              epoch: expect.any(String),
            }),
          );
        await request(second.url).get(`/panels/${gone}`).expect(404);
        const inspected = await request(second.url).get(`/panels/${id}`).expect(200);
        expect(inspected.body).toMatchObject({
          title: 'Counter',
          tools: { increment: { capabilities: ['state:read:*', 'state:write:count'] } },
        });
        const result = await request(second.url)
          .post(`/panels/${id}/trigger/increment`)
          .send({ by: 5 })
          .expect(200);
        expect(result.body).toMatchObject({ returnValue: 25, version: 21 });
        expect((await request(second.url).get('/health')).body.panels).toBe(1);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
