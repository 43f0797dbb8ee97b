import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Queue, QueueEvents, Worker } from "bullmq";
import { Redis } from "ioredis";
import { jobStanding } from "../src/queue/dispatch.js";
import { TestRedis } from "./support/redis.js";

// A coordinator that starts (or checks again) reads where each of its jobs stands in Redis. A job can
// end between two of those reads: what it then reads must be its result, or that it is still open
// (its end comes as an event, or at the next check), never an end without a result. CI once saw a
// worker fail with "its host returned something that is not a Baton result (received null)" so.

let redis: TestRedis;
before(async () => {
  redis = await TestRedis.start();
});
after(async () => {
  await redis?.stop();
});

test("a job that completes between the coordinator's reads is seen open or with its result, never without", async () => {
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const name = "standing-test";
  const queue = new Queue(name, { connection });
  // BullMQ leaves the connections it is given open: each is ended here.
  const clients = [connection, connection.duplicate(), connection.duplicate()];
  const events = new QueueEvents(name, { connection: clients[1] });
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const outcome = { v: 1, answer: "done: the job" };
  const worker = new Worker(
    name,
    async () => {
      await gate;
      return outcome;
    },
    { connection: clients[2] },
  );
  try {
    await events.waitUntilReady();
    const job = await queue.add("worker", {}, { jobId: "w1-d0" });
    const id = job.id ?? "";
    const active = new Promise<void>((resolve) => worker.once("active", () => resolve()));
    const completed = new Promise<void>((resolve) =>
      events.on("completed", ({ jobId }) => jobId === id && resolve()),
    );
    await active;
    assert.deepEqual(await jobStanding(queue, id), { kind: "open" });

    // The real queue, except that right after the first read the job completes (the race, made certain).
    let reads = 0;
    const racing = {
      getJobState: (jobId: string) => raced(() => queue.getJobState(jobId)),
      getJob: (jobId: string) => raced(() => queue.getJob(jobId)),
    };
    async function raced<T>(read: () => Promise<T>): Promise<T> {
      const value = await read();
      if (reads++ === 0) {
        release();
        await completed;
      }
      return value;
    }
    const standing = await jobStanding(racing, id);
    assert.equal(reads > 0, true);
    if (standing.kind !== "open") assert.deepEqual(standing, { kind: "completed", returnvalue: outcome });
    // Read again, it has its result.
    assert.deepEqual(await jobStanding(queue, id), { kind: "completed", returnvalue: outcome });
    assert.deepEqual(await jobStanding(queue, "w2-d0"), { kind: "gone" });
  } finally {
    release();
    await worker.close();
    await events.close();
    await queue.close();
    for (const client of clients) client.disconnect();
  }
});
