// `genstack gateway`'s usage accounting (`genstack usage`) and response
// cache, in front of a fake OpenAI-compatible upstream written here that
// counts the requests it gets.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { BINARY, postJSON } from './harness.mjs';
import {
  createKey, eventually, fakeCompletion, makeWorkDir, metricValue, startFakeUpstream, startGateway, writeConfig,
} from './gateway_harness.mjs';

const chat = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });
const USAGE = { prompt_tokens: 3, completion_tokens: 2 };

function usageReport(db, ...args) {
  const r = spawnSync(BINARY, ['usage', '--db', db, '--json', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('genstack gateway: usage and cache', () => {
  let work, gateway, alice, bob, upstream;
  let served = 0;  // requests the upstream answered
  let lastBody = null;  // the last request body it got, parsed

  before(async () => {
    work = makeWorkDir();
    upstream = await startFakeUpstream((req, res, body) => {
      served++;
      const request = JSON.parse(body);
      lastBody = request;
      if (!request.stream) {
        const text = `answer ${served}`;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(fakeCompletion(request.model, text, USAGE)));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const word of ['once', ' upon', ` ${served}`]) {
        res.write(`data: ${JSON.stringify({ object: 'chat.completion.chunk', model: request.model, choices: [{ index: 0, delta: { content: word } }] })}\n\n`);
      }
      res.write(`data: ${JSON.stringify({ object: 'chat.completion.chunk', model: request.model, choices: [], usage: USAGE })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
    const config = {
      listen: '127.0.0.1:0',
      upstreams: [{ name: 'fake', url: upstream.url }],
      routes: [{ model: 'm', aliases: ['alias'], pool: ['fake'] }],
      tiers: { pro: { priority: 7 } },
      keys: { db: work.db },
      cache: { enabled: true, ttl_s: 600, max_bytes: 1 << 20 },
    };
    gateway = await startGateway(writeConfig(work.dir, config));
    alice = createKey(work.db, 'pro', 'alice');
    bob = createKey(work.db, 'pro', 'bob');
  });

  after(async () => {
    await gateway?.stop();
    await upstream?.close();
    work?.remove();
  });

  const post = (key, body) =>
    postJSON(gateway.baseURL, '/v1/chat/completions', body, { headers: { authorization: `Bearer ${key.secret}` } });

  test('genstack usage --json reports requests, tokens and errors per key, model and upstream', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await post(alice, chat('alias', { temperature: 0.7 }))).status, 200);
    const stream = await post(alice, chat('m', { stream: true, temperature: 0.7 }));
    assert.equal(stream.status, 200);
    assert.ok(!stream.text.includes('"usage"'), 'the usage chunk the gateway asked for is not passed on');
    assert.equal((await post(bob, chat('m', { temperature: 0.7 }))).status, 200);
    assert.equal((await post(bob, chat('nope'))).status, 404);
    await eventually('usage written (once a second)', () => {
      const rows = usageReport(work.db);
      return rows.reduce((n, r) => n + r.requests, 0) === 6;
    });
    const rows = usageReport(work.db);
    const find = (key, model) => rows.find((r) => r.key_id === key.id && r.model === model);
    const a = find(alice, 'm');
    assert.equal(a.key_name, 'alice');
    assert.equal(a.upstream, 'fake');
    assert.equal(a.requests, 4);
    assert.equal(a.prompt_tokens, 4 * USAGE.prompt_tokens);
    assert.equal(a.completion_tokens, 4 * USAGE.completion_tokens);
    assert.equal(a.errors, 0);
    assert.ok(a.latency_s > 0);
    assert.match(a.day, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(find(bob, 'm').requests, 1);
    const miss = find(bob, 'nope');
    assert.equal(miss.errors, 1);
    assert.equal(miss.upstream, '-');
    assert.equal(usageReport(work.db, '--since', '2999-01-01').length, 0);
    const bad = spawnSync(BINARY, ['usage', '--db', work.db, '--since', 'yesterday'], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^genstack: error: --since/);
    const table = spawnSync(BINARY, ['usage', '--db', work.db], { encoding: 'utf8' });
    assert.match(table.stdout, /^DAY\s+KEY\s+NAME/);
    assert.match(table.stdout, /alice/);
  });

  test('deterministic requests are answered from the cache, streaming ones as a stream', async () => {
    const metrics = async () => (await fetch(`${gateway.baseURL}/metrics`)).text();
    const before = served;
    const first = await post(alice, chat('m', { temperature: 0, max_tokens: 4 }));
    assert.equal(first.headers.get('x-cache'), 'miss');
    const again = await post(bob, chat('alias', { max_tokens: 4.0, temperature: 0.0 }));
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('x-cache'), 'hit', 'alias, another key, 0.0 and key order make no difference');
    assert.equal(again.text, first.text);
    assert.equal(served, before + 1, 'the upstream saw one request');
    assert.equal((await post(alice, chat('m', { temperature: 0, max_tokens: 5 }))).headers.get('x-cache'), 'miss');

    const streamed = await post(alice, chat('m', { stream: true, seed: 7 }));
    assert.equal(streamed.headers.get('x-cache'), 'miss');
    const replay = await post(alice, chat('m', { stream: true, seed: 7 }));
    assert.equal(replay.headers.get('x-cache'), 'hit');
    assert.match(replay.headers.get('content-type'), /^text\/event-stream/);
    assert.equal(replay.text, streamed.text);
    assert.ok(replay.text.endsWith('data: [DONE]\n\n'));
    assert.equal(served, before + 3);

    const random = [await post(alice, chat('m', { temperature: 0.9 })), await post(alice, chat('m', { temperature: 0.9 }))];
    assert.deepEqual(random.map((r) => r.headers.get('x-cache')), ['miss', 'miss']);
    assert.notEqual(random[0].text, random[1].text);
    const m = await metrics();
    assert.equal(metricValue(m, 'genstack_gateway_cache_hits_total', {}), 2);
    assert.equal(metricValue(m, 'genstack_gateway_cache_misses_total', {}), 3);
    assert.ok(metricValue(m, 'genstack_gateway_cache_bytes', {}) > 0);
    await eventually('cache hits in the usage report', () => {
      const hits = usageReport(work.db).filter((r) => r.upstream === 'cache');
      const sum = (field) => hits.reduce((n, r) => n + r[field], 0);
      return sum('requests') === 2 && sum('prompt_tokens') === 2 * USAGE.prompt_tokens;
    });
  });

  test('the upstream gets the canonical model and the tier priority, the rest of the body as sent', async () => {
    const extra = { temperature: 0.7, user: 'u1', tools_like: { nested: [1, 'two', null, { three: 3.5 }] } };
    for (const [model, clientPriority] of [['m', undefined], ['alias', undefined], ['m', 99]]) {
      const body = chat(model, { ...extra, ...(clientPriority === undefined ? {} : { priority: clientPriority }) });
      assert.equal((await post(alice, body)).status, 200);
      assert.deepEqual(lastBody, { ...chat('m', extra), priority: 7 }, `${model} ${clientPriority}`);
    }
  });
});
