// BullMQ end to end against the server at REDIS_PORT: a job added to a queue
// is completed by a Worker with its return value; a delayed job completes;
// QueueEvents hears `completed`. Prints OK and exits 0, or exits 1.
const { Queue, Worker, QueueEvents } = require('bullmq');
const connection = { host: '127.0.0.1', port: Number(process.env.REDIS_PORT) };
const name = 'q' + process.pid;
const fail = (msg) => { console.error(msg); process.exit(1); };
setTimeout(() => fail('timed out'), 20000).unref();
(async () => {
  const events = new QueueEvents(name, { connection });
  await events.waitUntilReady();
  const completed = [];
  events.on('completed', ({ jobId, returnvalue }) => completed.push([jobId, returnvalue]));
  const queue = new Queue(name, { connection });
  const worker = new Worker(name, async (job) => job.data.a + job.data.b, { connection });
  const job = await queue.add('add', { a: 2, b: 3 });
  const delayed = await queue.add('add', { a: 40, b: 2 }, { delay: 500 });
  const r1 = await job.waitUntilFinished(events, 15000);
  const r2 = await delayed.waitUntilFinished(events, 15000);
  if (r1 !== 5 || r2 !== 42) fail(`return values ${r1} ${r2}`);
  const again = await queue.getJob(job.id);
  if ((await again.getState()) !== 'completed') fail('state ' + (await again.getState()));
  for (let i = 0; i < 50 && completed.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
  if (completed.length < 2) fail('QueueEvents heard ' + JSON.stringify(completed));
  await worker.close(); await queue.close(); await events.close();
  console.log('OK');
  process.exit(0);
})().catch((e) => fail(e.stack || String(e)));
