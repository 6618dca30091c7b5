// Rate limits and the response cache shared through Redis: two `genstack
// gateway` processes with one Debian redis-server (started here on a free
// port, stopped by PID) hold a key to one limit between them, and one
// answers from the cache what the other fetched. Skipped when redis-server
// is not installed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { assertOpenAIError, postJSON, withTimeout } from './harness.mjs';
import {
  closedPort, createKey, fakeCompletion, makeWorkDir, startFakeUpstream, startGateway, writeConfig,
} from './gateway_harness.mjs';

const REDIS = ['/usr/bin/redis-server', '/usr/sbin/redis-server', '/usr/local/bin/redis-server'].find(existsSync);
const chat = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

async function startRedis() {
  const port = await closedPort();
  const proc = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  let out = '';
  const ready = new Promise((resolve, reject) => {
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) resolve();
    });
    exited.then(() => reject(new Error(`redis-server exited: ${out}`)));
  });
  await withTimeout(ready, 30_000, 'redis-server did not start');
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, 'SIGKILL');
    await exited;
  };
  return { url: `redis://127.0.0.1:${port}`, stop };
}

describe('genstack gateway: limits shared through Redis', { skip: !REDIS && 'redis-server is not installed' }, () => {
  let work, redis, upstream, gateways = [], key;

  before(async () => {
    work = makeWorkDir();
    redis = await startRedis();
    upstream = await startFakeUpstream((req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(fakeCompletion(JSON.parse(body).model)));
    });
    const config = {
      listen: '127.0.0.1:0',
      upstreams: [{ name: 'fake', url: upstream.url }],
      routes: [{ model: 'm', pool: ['fake'] }],
      tiers: { small: { requests_per_minute: 3 }, quota: { monthly_tokens: 12 } },
      keys: { db: work.db },
      redis: { url: redis.url },
    };
    const file = writeConfig(work.dir, config);
    gateways = [await startGateway(file), await startGateway(file)];
    key = createKey(work.db, 'small');
  });

  after(async () => {
    for (const g of gateways) await g.stop();
    await redis?.stop();
    await upstream?.close();
    work?.remove();
  });

  const post = (gateway, secret = key.secret) =>
    postJSON(gateway.baseURL, '/v1/chat/completions', chat, { headers: { authorization: `Bearer ${secret}` } });

  test('3 requests/min across two gateways: the 4th is 429, whichever gateway gets it', async () => {
    const answers = [];
    for (const g of [0, 1, 0]) answers.push(await post(gateways[g]));
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200]);
    assert.deepEqual(answers.map((r) => r.headers.get('x-ratelimit-remaining-requests')), ['2', '1', '0']);
    const limited = await post(gateways[1]);
    assert.equal(limited.status, 429);
    assertOpenAIError(assert, limited.json, { code: 'rate_limit_exceeded' });
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal(limited.headers.get('x-ratelimit-limit-requests'), '3');
    assert.equal((await post(gateways[0])).status, 429);
  });

  test('a monthly token quota is one count in Redis across two gateways', async () => {
    const capped = createKey(work.db, 'quota', 'capped');
    const answers = [];
    for (const g of [0, 1, 0]) answers.push(await post(gateways[g], capped.secret));  // 5 tokens each
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200]);
    assert.deepEqual(answers.map((r) => r.headers.get('x-quota-remaining-tokens')), ['12', '7', '2']);
    const refused = await post(gateways[1], capped.secret);
    assert.equal(refused.status, 429);
    assertOpenAIError(assert, refused.json, { type: 'insufficient_quota', code: 'insufficient_quota' });
    assert.equal(refused.headers.get('x-quota-remaining-tokens'), '0');
  });

  test('with Redis gone, the gateways keep serving on their own buckets', async () => {
    await redis.stop();
    const other = createKey(work.db, 'small', 'other');
    const r = await post(gateways[0], other.secret);
    assert.equal(r.status, 200, r.text);
    assert.match(gateways[0].logs(), /limits are per gateway until Redis answers again/);
  });
});

describe('genstack gateway: a response cache shared through Redis', { skip: !REDIS && 'redis-server is not installed' }, () => {
  let work, redis, upstream, gateways = [], key, upstreamCalls = 0;

  before(async () => {
    work = makeWorkDir();
    redis = await startRedis();
    upstream = await startFakeUpstream((req, res, body) => {
      upstreamCalls += 1;
      const request = JSON.parse(body);
      if (request.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = { id: 'c', object: 'chat.completion.chunk', created: 0, model: request.model,
          choices: [{ index: 0, delta: { content: `streamed ${upstreamCalls}` }, finish_reason: null }] };
        const usage = { ...chunk, choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } };
        res.end(`data: ${JSON.stringify(chunk)}\n\ndata: ${JSON.stringify(usage)}\n\ndata: [DONE]\n\n`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(fakeCompletion(request.model, `answer ${upstreamCalls}`)));
    });
    const config = {
      listen: '127.0.0.1:0',
      upstreams: [{ name: 'fake', url: upstream.url }],
      routes: [{ model: 'm', pool: ['fake'] }],
      tiers: { pro: {} },
      keys: { db: work.db },
      redis: { url: redis.url },
      cache: { enabled: true, backend: 'redis', ttl_s: 60 },
    };
    const file = writeConfig(work.dir, config);
    gateways = [await startGateway(file), await startGateway(file)];
    key = createKey(work.db, 'pro');
  });

  after(async () => {
    for (const g of gateways) await g.stop();
    await redis?.stop();
    await upstream?.close();
    work?.remove();
  });

  const post = (gateway, body) =>
    postJSON(gateway.baseURL, '/v1/chat/completions', body, { headers: { authorization: `Bearer ${key.secret}` } });

  test('a deterministic answer fetched by gateway A is a hit on gateway B', async () => {
    const body = { ...chat, temperature: 0 };
    const first = await post(gateways[0], body);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-cache'), 'miss');
    const calls = upstreamCalls;
    const second = await post(gateways[1], body);
    assert.equal(second.status, 200, second.text);
    assert.equal(second.headers.get('x-cache'), 'hit');
    assert.equal(second.text, first.text);
    assert.equal(upstreamCalls, calls, 'the upstream was not asked again');
    // A non-deterministic request is never cached.
    const random = await post(gateways[1], { ...chat, temperature: 0.7 });
    assert.equal(random.headers.get('x-cache'), 'miss');
  });

  test('a streamed answer is shared as its events', async () => {
    const body = { ...chat, seed: 7, stream: true };
    const first = await post(gateways[1], body);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-cache'), 'miss');
    const second = await post(gateways[0], body);
    assert.equal(second.headers.get('x-cache'), 'hit');
    assert.match(second.headers.get('content-type'), /text\/event-stream/);
    assert.equal(second.text, first.text);
    assert.match(second.text, /data: \[DONE\]/);
  });

  test('with Redis gone, requests are misses answered by the upstream', async () => {
    await redis.stop();
    const r = await post(gateways[0], { ...chat, temperature: 0, max_tokens: 3 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-cache'), 'miss');
    assert.match(gateways[0].logs(), /cached answers are misses until Redis answers again/);
  });
});
