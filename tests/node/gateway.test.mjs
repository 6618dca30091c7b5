// `genstack gateway` in front of two `genstack serve` replicas on
// stories260K: keys, tiers, limits, the OpenAI SDK through the gateway, and
// failover while one replica is killed under load and comes back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { MODEL_ID, REQUEST_TIMEOUT_MS, assertOpenAIError, postJSON, startServer } from './harness.mjs';
import { createKey, eventually, keys, makeWorkDir, metricValue, startGateway, writeConfig } from './gateway_harness.mjs';

const client = (baseURL, apiKey) => new OpenAI({ baseURL: `${baseURL}/v1`, apiKey, maxRetries: 0, timeout: REQUEST_TIMEOUT_MS });
const chat = (model = MODEL_ID, extra = {}) => ({ model, messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 8, ...extra });

describe('genstack gateway', () => {
  let work, replicas, gateway, pro, free;

  before(async () => {
    work = makeWorkDir();
    replicas = [await startServer(), await startServer()];
    const config = {
      listen: '127.0.0.1:0',
      upstreams: replicas.map((r, i) => ({ name: `r${i}`, url: r.baseURL })),
      routes: [{ model: MODEL_ID, aliases: ['tiny'], pool: ['r0', 'r1'] }],
      tiers: {
        pro: { models: ['*'], requests_per_minute: 100000, priority: 5 },
        free: { models: ['tiny'], requests_per_minute: 2 },
      },
      keys: { db: work.db },
      health: { interval_s: 0.5, timeout_s: 2 },
      ejection: { consecutive_failures: 2, cooldown_s: 1 },
    };
    gateway = await startGateway(writeConfig(work.dir, config));
    pro = createKey(work.db, 'pro', 'pro-key');
    free = createKey(work.db, 'free', 'free-key');
  });

  after(async () => {
    await gateway?.stop();
    for (const r of replicas ?? []) await r.stop();
    work?.remove();
  });

  test('the OpenAI SDK works through the gateway with a key, streaming and not', async () => {
    const openai = client(gateway.baseURL, pro.secret);
    const { data, response } = await openai.chat.completions.create(chat('tiny')).withResponse();
    assert.equal(data.model, MODEL_ID, 'the alias reaches the upstream as the canonical model');
    assert.ok(data.choices[0].message.content.length > 0);
    assert.ok(data.usage.completion_tokens > 0);
    assert.ok(['r0', 'r1'].includes(response.headers.get('x-genstack-upstream')));
    assert.equal(response.headers.get('x-ratelimit-limit-requests'), '100000');
    assert.ok(Number(response.headers.get('x-ratelimit-remaining-requests')) < 100000);
    assert.ok(response.headers.get('x-ratelimit-reset-requests'));

    const stream = await openai.chat.completions.create(chat(MODEL_ID, { stream: true }));
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      assert.ok(chunk.choices.length > 0, 'the usage chunk the gateway asked for is not passed on');
      text += chunk.choices[0].delta?.content ?? '';
      chunks++;
    }
    assert.ok(chunks > 2 && text.length > 0);

    const models = await openai.models.list();
    assert.deepEqual(models.data.map((m) => m.id).sort(), [MODEL_ID, 'tiny'].sort());
  });

  test('a wrong key gets 401 as the SDK\'s AuthenticationError; so does a missing one', async () => {
    await assert.rejects(client(gateway.baseURL, 'gsk_wrong').chat.completions.create(chat()), (err) => {
      assert.ok(err instanceof OpenAI.AuthenticationError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.status, 401);
      return true;
    });
    const r = await postJSON(gateway.baseURL, '/v1/chat/completions', chat());
    assert.equal(r.status, 401);
    assertOpenAIError(assert, r.json, { code: 'invalid_api_key' });
  });

  test('a revoked key gets 401 at once', async () => {
    const key = createKey(work.db, 'pro', 'short-lived');
    const openai = client(gateway.baseURL, key.secret);
    await openai.chat.completions.create(chat());
    assert.equal(keys(work.db, 'revoke', String(key.id)).status, 0);
    assert.match(keys(work.db, 'list').stdout, new RegExp(`^${key.id} .*revoked$`, 'm'));
    await assert.rejects(openai.chat.completions.create(chat()), OpenAI.AuthenticationError);
    assert.notEqual(keys(work.db, 'revoke', String(key.id)).status, 0, 'revoking twice is an error');
  });

  test('a tier gets 403 for models it may not use and 429 with headers past 2 requests/min', async () => {
    const headers = { authorization: `Bearer ${free.secret}` };
    const forbidden = await postJSON(gateway.baseURL, '/v1/chat/completions', chat(MODEL_ID), { headers });
    assert.equal(forbidden.status, 403);
    assertOpenAIError(assert, forbidden.json, { type: 'permission_error', code: 'model_not_allowed' });

    for (let i = 0; i < 2; i++) {
      const ok = await postJSON(gateway.baseURL, '/v1/chat/completions', chat('tiny'), { headers });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.headers.get('x-ratelimit-remaining-requests'), String(1 - i));
    }
    const limited = await postJSON(gateway.baseURL, '/v1/chat/completions', chat('tiny'), { headers });
    assert.equal(limited.status, 429);
    assertOpenAIError(assert, limited.json, { code: 'rate_limit_exceeded' });
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal(limited.headers.get('x-ratelimit-limit-requests'), '2');
    assert.equal(limited.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.ok(limited.headers.get('x-ratelimit-reset-requests'));
    await assert.rejects(client(gateway.baseURL, free.secret).chat.completions.create(chat('tiny')), OpenAI.RateLimitError);
  });

  test('bad requests get clear errors', async () => {
    const headers = { authorization: `Bearer ${pro.secret}` };
    const unknown = await postJSON(gateway.baseURL, '/v1/chat/completions', chat('nope'), { headers });
    assert.equal(unknown.status, 404);
    assertOpenAIError(assert, unknown.json, { code: 'model_not_found' });
    const notJson = await postJSON(gateway.baseURL, '/v1/chat/completions', '{oops', { headers });
    assert.equal(notJson.status, 400);
    assertOpenAIError(assert, notJson.json);
  });

  test('killing a replica under load fails no request; it is ejected and readmitted when back', async () => {
    const openai = client(gateway.baseURL, pro.secret);
    const victim = replicas[1];
    const victimPort = victim.port;
    let running = true;
    const counts = { ok: 0, failed: 0, streamsCut: 0, streamsOk: 0 };
    const failures = [];
    const worker = async (i) => {
      while (running) {
        if (i % 2 === 0) {
          try {
            await openai.chat.completions.create(chat());
            counts.ok++;
          } catch (err) {
            counts.failed++;
            failures.push(String(err));
          }
        } else {
          // A stream may be cut once it started; then it must end with an error event, not a broken body.
          const r = await fetch(`${gateway.baseURL}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${pro.secret}`, 'content-type': 'application/json' },
            body: JSON.stringify(chat(MODEL_ID, { stream: true, max_tokens: 32 })),
          });
          const text = await r.text();
          if (r.status !== 200) {
            counts.failed++;
            failures.push(`stream status ${r.status}: ${text}`);
          } else if (text.includes('"error"')) {
            assert.match(text, /data: \{"error":\{.*\}\}\n\ndata: \[DONE\]\n\n$/s);
            counts.streamsCut++;
          } else {
            assert.ok(text.endsWith('data: [DONE]\n\n'), text.slice(-200));
            counts.streamsOk++;
          }
        }
      }
    };
    const workers = Array.from({ length: 6 }, (_, i) => worker(i));
    await eventually('some load', () => counts.ok + counts.streamsOk >= 12);
    process.kill(victim.proc.pid, 'SIGKILL');
    await eventually('r1 out of rotation', async () => {
      const m = await (await fetch(`${gateway.baseURL}/metrics`)).text();
      return metricValue(m, 'genstack_gateway_upstream_healthy', { upstream: 'r1' }) === 0;
    });
    const before = counts.ok;
    await eventually('requests served while r1 is down', () => counts.ok >= before + 6);
    replicas[1] = await startServer({ port: victimPort });
    await eventually('r1 readmitted', async () => {
      const m = await (await fetch(`${gateway.baseURL}/metrics`)).text();
      return metricValue(m, 'genstack_gateway_upstream_healthy', { upstream: 'r1' }) === 1 &&
        metricValue(m, 'genstack_gateway_upstream_ejected', { upstream: 'r1' }) === 0;
    });
    await eventually('r1 serves again', async () => {
      const { response } = await openai.chat.completions.create(chat()).withResponse();
      return response.headers.get('x-genstack-upstream') === 'r1';
    });
    running = false;
    await Promise.all(workers);
    console.log(`failover counts: ${JSON.stringify(counts)}`);
    assert.equal(counts.failed, 0, `requests that had not started streaming failed: ${failures.slice(0, 3).join('; ')}`);
    const metrics = await (await fetch(`${gateway.baseURL}/metrics`)).text();
    assert.ok(metrics.includes('genstack_gateway_retries_total'), 'retries are counted');
  });
});
