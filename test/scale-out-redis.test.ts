import assert from "node:assert/strict";
import net from "node:net";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import { TestRedis } from "./support/redis.js";

let redis: TestRedis;

before(async () => {
  redis = await TestRedis.start();
});

after(async () => {
  await redis?.stop();
});

test("the test Redis wants its password and keeps nothing across a restart", async () => {
  // Without the password, Redis answers nothing but NOAUTH.
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(redis.port, "127.0.0.1", () => socket.write("GET k\r\n"));
    socket.once("data", (data) => {
      resolve(data.toString());
      socket.destroy();
    });
    socket.once("error", reject);
  });
  assert.match(answer, /^-NOAUTH/);
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on("error", () => {});
  await client.connect();
  await client.set("k", "v");
  assert.equal(await client.get("k"), "v");
  client.disconnect();
  await redis.restart();
  const again = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  again.on("error", () => {});
  await again.connect();
  assert.equal(await again.get("k"), null);
  again.disconnect();
});
