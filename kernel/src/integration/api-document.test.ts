// What the API document (/openapi.json) says of the definition routes holds for a running kernel:
// the cases a generated request reaches only by chance (hack/schemathesis.sh covers the rest).

import request from 'supertest';
import { MAX_REVISION } from '../http/preconditions.js';
import { eventually } from '../testing/eventually.js';
import { startTestKernel, type TestKernel } from '../testing/kernel-harness.js';

const definition = (answer: number) => ({
  title: 'Answers',
  tools: { answer: { handler: `return ${answer}` } },
});

describe('the API document of the definition routes', () => {
  let kernel: TestKernel;

  beforeAll(async () => {
    kernel = await startTestKernel();
  });
  afterAll(async () => {
    await kernel.stop();
  });

  it('takes a rollback revision as a JSON integer only, as documented', async () => {
    const document = await request(kernel.url).get('/openapi.json').expect(200);
    const body =
      document.body.paths['/panels/{id}/rollback'].post.requestBody.content['application/json'].schema;
    expect(body.properties.revision).toEqual({ type: 'integer', minimum: 1, maximum: MAX_REVISION });

    const id = `rollback-${process.pid}`;
    await request(kernel.url).put(`/panels/${id}`).send(definition(1)).expect(201);
    await request(kernel.url).put(`/panels/${id}`).send(definition(2)).expect(200);
    for (const revision of ['1', 0, 1.5, null, MAX_REVISION + 1]) {
      const refused = await request(kernel.url).post(`/panels/${id}/rollback`).send({ revision }).expect(400);
      expect(refused.body.error).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: [{ path: '/revision', message: `expected an integer from 1 to ${MAX_REVISION}` }],
      });
    }
    const rolled = await request(kernel.url).post(`/panels/${id}/rollback`).send({ revision: 1 }).expect(200);
    expect(rolled.headers.etag).toBe('"3"');
    const ran = await request(kernel.url).post(`/panels/${id}/trigger/answer`).send({}).expect(200);
    expect(ran.body.returnValue).toBe(1);
  });

  it('sends the headers the document declares: Location and ETag on 201, ETag on 304', async () => {
    const id = `headers-${process.pid}`;
    const created = await request(kernel.url).put(`/panels/${id}`).send(definition(1)).expect(201);
    expect(created.headers.location).toBe(`/panels/${id}`);
    expect(created.headers.etag).toBe('"1"');
    const unchanged = await request(kernel.url).get(`/panels/${id}/definition`).set('If-None-Match', '"1"');
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.etag).toBe('"1"');
  });

  it("lists an upgrade handler's log lines under a kind the document names", async () => {
    const document = await request(kernel.url).get('/openapi.json').expect(200);
    const line =
      document.body.paths['/panels/{id}/logs'].get.responses['200'].content['application/json'].schema
        .properties.lines.items;
    const id = `upgrade-logs-${process.pid}`;
    await request(kernel.url).put(`/panels/${id}`).send(definition(1)).expect(201);
    await request(kernel.url)
      .put(`/panels/${id}`)
      .send({ ...definition(2), lifecycle: { upgrade: { handler: 'console.log("upgraded")' } } })
      .expect(200);
    // The ring is written off the answer's path.
    const lines = await eventually("the upgrade handler's log line", async () => {
      const read = await request(kernel.url).get(`/panels/${id}/logs`).expect(200);
      const kept = read.body.lines as { kind: string; message: string }[];
      return kept.length > 0 ? kept : undefined;
    });
    expect(lines).toEqual([expect.objectContaining({ kind: 'upgrade', message: 'upgraded' })]);
    expect(line.required).toContain('kind');
    expect(line.properties.kind.enum).toContain('upgrade');
  });
});
