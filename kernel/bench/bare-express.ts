// The peer of the trigger benchmark: a bare Express route that parses the same JSON body and
// returns the same JSON the kernel returns, with no sandbox behind it.

import express from 'express';

const body = JSON.parse(process.env.BARE_RESPONSE ?? '{}') as unknown;
const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json());
app.post('/panels/:id/trigger/:tool', (_request, response) => {
  response.json(body);
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`,
  );
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
