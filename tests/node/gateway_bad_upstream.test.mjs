// `genstack gateway` against misbehaving parts, with tiny fake upstreams
// written here: one that never answers, one that sends malformed SSE, one
// that streams until its client goes away, one that is down (fallback), an
// oversized body, and more requests in flight than limits.max_concurrent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOpenAIError, postJSON } from './harness.mjs';
import {
  closedPort, createKey, eventually, fakeCompletion, makeWorkDir, metricValue, startFakeUpstream, startGateway, writeConfig,
} from './gateway_harness.mjs';

const chat = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });
const sse = (res) => res.writeHead(200, { 'content-type': 'text/event-stream' });

describe('genstack gateway with misbehaving upstreams and clients', () => {
  let work, gateway, key, upstreams;
  const streamer = { closed: 0, opened: 0 };
  const held = [];  // responses of the 'hold' upstream, released by the test
  let backupCalls = 0;

  before(async () => {
    work = makeWorkDir();
    upstreams = {
      hang: await startFakeUpstream(() => { /* never answers */ }),
      badsse: await startFakeUpstream((req, res) => {
        sse(res);
        res.write('data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n');
        res.end('this is not SSE\n\n');
      }),
      streamer: await startFakeUpstream((req, res) => {
        streamer.opened++;
        sse(res);
        const timer = setInterval(() => res.write('data: {"choices":[{"index":0,"delta":{"content":"x"}}]}\n\n'), 50);
        req.socket.on('close', () => { clearInterval(timer); streamer.closed++; });
      }),
      hold: await startFakeUpstream((req, res) => {
        sse(res);
        // SSE comments keep each of the gateway's reads within its timeout.
        const timer = setInterval(() => res.write(': waiting\n\n'), 100);
        held.push(() => { clearInterval(timer); res.end('data: [DONE]\n\n'); });
      }),
      // genstack serve's answers when it cannot take a request: the queue is full, or the
      // prompt does not fit its context; and a plain client error, which is final.
      busy: await startFakeUpstream((req, res) => {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' })
          .end('{"error":{"message":"queue full","type":"server_error","param":null,"code":"queue_full"}}');
      }),
      small: await startFakeUpstream((req, res, body) => {
        const tooLong = JSON.parse(body).messages[0].content.length > 100;
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({
          error: { message: tooLong ? 'the prompt is 200 tokens; the context is 128' : "'temperature' must be a number",
            type: 'invalid_request_error', param: 'messages', code: tooLong ? 'context_length_exceeded' : null },
        }));
      }),
      backup: await startFakeUpstream((req, res, body) => {
        backupCalls++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(fakeCompletion(JSON.parse(body).model)));
      }),
    };
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const config = {
      listen: '127.0.0.1:0',
      upstreams: [...Object.entries(upstreams).map(([name, u]) => ({ name, url: u.url })), { name: 'dead', url: dead }],
      routes: [
        ...['hang', 'badsse', 'streamer', 'hold'].map((name) => ({ model: name, pool: [name] })),
        { model: 'failover', pool: ['dead'], fallback: ['backup'] },
        { model: 'saturated', pool: ['busy'], fallback: ['backup'] },
        { model: 'short', pool: ['small'], fallback: ['backup'] },
        { model: 'ok', pool: ['backup'] },
      ],
      tiers: { pro: {} },
      keys: { db: work.db },
      health: { interval_s: 0.5, timeout_s: 1 },
      limits: { upstream_timeout_s: 1, connect_timeout_s: 1, max_body_bytes: 4096, max_concurrent: 3 },
    };
    gateway = await startGateway(writeConfig(work.dir, config));
    key = createKey(work.db, 'pro');
  });

  after(async () => {
    for (const release of held) release();
    await gateway?.stop();
    for (const u of Object.values(upstreams ?? {})) await u.close();
    work?.remove();
  });

  const post = (body, extra = {}) =>
    postJSON(gateway.baseURL, '/v1/chat/completions', body, { headers: { authorization: `Bearer ${key.secret}` }, ...extra });

  test('an upstream that never answers gives 504 after the timeout; the gateway keeps serving', async () => {
    const r = await post(chat('hang'));
    assert.equal(r.status, 504, r.text);
    assertOpenAIError(assert, r.json, { code: 'upstream_timeout' });
    const ok = await post(chat('ok'));
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await fetch(`${gateway.baseURL}/health`)).status, 200);
  });

  test('malformed SSE from an upstream ends the stream with a clean error event', async () => {
    const r = await post(chat('badsse', { stream: true }));
    assert.equal(r.status, 200);
    assert.match(r.text, /^data: \{"choices".*\n\ndata: \{"error":\{.*"code":"upstream_malformed"\}\}\n\ndata: \[DONE\]\n\n$/s);
    assert.ok(!/^this is not SSE/m.test(r.text), 'the malformed bytes are not passed on as an event');
  });

  test('an oversized body gets 413 as an OpenAI error', async () => {
    const r = await post(chat('ok', { messages: [{ role: 'user', content: 'x'.repeat(8192) }] }));
    assert.equal(r.status, 413);
    assertOpenAIError(assert, r.json);
    assert.match(r.json.error.message, /4096/);
  });

  test('a client that disconnects mid-stream cancels the upstream request', async () => {
    const controller = new AbortController();
    const r = await fetch(`${gateway.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify(chat('streamer', { stream: true })),
      signal: controller.signal,
    });
    assert.equal(r.status, 200);
    const reader = r.body.getReader();
    const first = await reader.read();
    assert.ok(!first.done && first.value.length > 0);
    controller.abort();
    await eventually('the upstream sees its socket close', () => streamer.opened === 1 && streamer.closed === 1);
  });

  test('the fallback pool serves when the pool is down', async () => {
    const r = await post(chat('failover'));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-genstack-upstream'), 'backup');
    assert.equal(r.json.model, 'failover');
  });

  test('a saturated pool (429) and a prompt too long for its context fail over to the fallback pool', async () => {
    const saturated = await post(chat('saturated'));
    assert.equal(saturated.status, 200, saturated.text);
    assert.equal(saturated.headers.get('x-genstack-upstream'), 'backup');

    const long = await post({ model: 'short', messages: [{ role: 'user', content: 'x'.repeat(200) }] });
    assert.equal(long.status, 200, long.text);
    assert.equal(long.headers.get('x-genstack-upstream'), 'backup');

    const calls = backupCalls;
    const bad = await post(chat('short'));  // another client error is the client's: passed on, not retried
    assert.equal(bad.status, 400, bad.text);
    assertOpenAIError(assert, bad.json, { type: 'invalid_request_error' });
    assert.equal(backupCalls, calls);
  });

  test('past limits.max_concurrent requests in flight, 503 with Retry-After', async () => {
    const streams = [0, 1, 2].map(() => post(chat('hold', { stream: true })));
    await eventually('3 requests in flight', async () => {
      const m = await (await fetch(`${gateway.baseURL}/metrics`)).text();
      return metricValue(m, 'genstack_gateway_requests_in_flight', {}) === 3;
    });
    const refused = await post(chat('ok'));
    assert.equal(refused.status, 503);
    assertOpenAIError(assert, refused.json, { code: 'gateway_overloaded' });
    assert.equal(refused.headers.get('retry-after'), '1');
    for (const release of held.splice(0)) release();
    for (const r of await Promise.all(streams)) assert.equal(r.status, 200);
    await eventually('requests served again', async () => (await post(chat('ok'))).status === 200);
  });
});
