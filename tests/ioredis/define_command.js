// ioredis's defineCommand against redsql: the command is sent as EVALSHA,
// falling back to EVAL on NOSCRIPT; results and errors come back as on Redis.
// Exits 77 (skip) when ioredis is not installed (NODE_PATH may point at it).
let Redis;
try {
  Redis = require("ioredis");
} catch (e) {
  console.log("ioredis is not installed");
  process.exit(77);
}

const assert = require("assert");

async function main() {
  const redis = new Redis({ port: Number(process.env.REDSQL_PORT), lazyConnect: true });
  await redis.connect();
  await redis.del("ctr", "h");
  redis.defineCommand("incrAndGet", {
    numberOfKeys: 1,
    lua: "redis.call('incrby', KEYS[1], ARGV[1]) return tonumber(redis.call('get', KEYS[1]))",
  });
  redis.defineCommand("setMany", {
    lua: "for i = 2, #KEYS do redis.call('hset', KEYS[1], KEYS[i], ARGV[i - 1]) end return redis.call('hgetall', KEYS[1])",
  });
  redis.defineCommand("fails", { numberOfKeys: 0, lua: "return redis.call('nosuch')" });
  assert.strictEqual(await redis.incrAndGet("ctr", 5), 5);
  assert.strictEqual(await redis.incrAndGet("ctr", 2), 7);
  // The script cache was flushed: ioredis sends EVAL after NOSCRIPT.
  await redis.script("FLUSH");
  assert.strictEqual(await redis.incrAndGet("ctr", 1), 8);
  assert.deepStrictEqual(await redis.setMany(3, "h", "a", "b", "1", "2"), ["a", "1", "b", "2"]);
  // In a pipeline too.
  const results = await redis.pipeline().incrAndGet("ctr", 10).incrAndGet("ctr", 10).exec();
  assert.deepStrictEqual(results, [[null, 18], [null, 28]]);
  await assert.rejects(redis.fails(), /Unknown Redis command called from script/);
  redis.disconnect();
  console.log("ok");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
