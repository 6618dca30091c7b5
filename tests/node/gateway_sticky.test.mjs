// `genstack gateway` in front of two `genstack serve` replicas on
// stories260K: sticky routing by prompt prefix (one long prompt always lands
// on the same replica, whose KV prefix cache it reuses) and a tier's monthly
// token quota (429 insufficient_quota once used up, also after a restart of
// the gateway on the same key database).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MODEL_ID, assertOpenAIError, postJSON, startServer } from './harness.mjs';
import { createKey, makeWorkDir, startGateway, writeConfig } from './gateway_harness.mjs';

const LONG_PROMPT = 'Once upon a time there was a little girl who lived in a village near the forest. '.repeat(8);
const chat = (content, extra = {}) => ({ model: MODEL_ID, messages: [{ role: 'user', content }], max_tokens: 4, ...extra });

describe('genstack gateway: sticky routing and monthly quotas', () => {
  let work, replicas, config, configFile, gateway, pro, capped;

  before(async () => {
    work = makeWorkDir();
    replicas = [await startServer({ args: ['--ctx', '1024'] }), await startServer({ args: ['--ctx', '1024'] })];
    config = {
      listen: '127.0.0.1:0',
      upstreams: replicas.map((r, i) => ({ name: `r${i}`, url: r.baseURL })),
      routes: [{ model: MODEL_ID, pool: ['r0', 'r1'], sticky: 'prefix', sticky_prefix_bytes: 256 }],
      tiers: {
        pro: {},
        capped: { monthly_tokens: 20 },
      },
      keys: { db: work.db },
      health: { interval_s: 0.5, timeout_s: 2 },
    };
    configFile = writeConfig(work.dir, config);
    gateway = await startGateway(configFile);
    pro = createKey(work.db, 'pro', 'pro-key');
    capped = createKey(work.db, 'capped', 'capped-key');
  });

  after(async () => {
    await gateway?.stop();
    for (const r of replicas ?? []) await r.stop();
    work?.remove();
  });

  const post = (key, body, route = '/v1/chat/completions') =>
    postJSON(gateway.baseURL, route, body, { headers: { authorization: `Bearer ${key.secret}` } });

  test('the same long prompt lands on the same replica every time', async () => {
    const upstreams = [];
    for (let i = 0; i < 6; i++) {
      // A different end past sticky_prefix_bytes does not matter: only the prefix is hashed.
      const r = await post(pro, chat(`${LONG_PROMPT} Request ${i}.`, { temperature: 0.7 }));
      assert.equal(r.status, 200, r.text);
      upstreams.push(r.headers.get('x-genstack-upstream'));
    }
    assert.ok(['r0', 'r1'].includes(upstreams[0]), upstreams.join());
    assert.deepEqual(upstreams, Array(6).fill(upstreams[0]));
    assert.equal(gateway.logs().includes('ejected'), false);
  });

  test('different prompts spread over both replicas, each one sticky', async () => {
    const seen = new Map();
    for (let i = 0; i < 12; i++) {
      const prompt = `Story number ${i}: `;
      for (const route of ['/v1/chat/completions', '/api/generate']) {
        const body = route === '/api/generate'
          ? { model: MODEL_ID, prompt, stream: false, options: { num_predict: 2 } }
          : chat(prompt, { max_tokens: 2 });
        const r = await post(pro, body, route);
        assert.equal(r.status, 200, r.text);
        const key = `${route} ${prompt}`;
        const upstream = r.headers.get('x-genstack-upstream');
        if (!seen.has(key)) seen.set(key, upstream);
        const again = await post(pro, body, route);
        assert.equal(again.headers.get('x-genstack-upstream'), seen.get(key), key);
      }
    }
    assert.deepEqual(new Set(seen.values()), new Set(['r0', 'r1']), 'rendezvous hashing uses both replicas');
  });

  test('a monthly quota is enforced and survives a gateway restart', async () => {
    const first = await post(capped, chat('Once upon a time', { max_tokens: 16 }));
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-quota-limit-tokens'), '20');
    assert.equal(first.headers.get('x-quota-remaining-tokens'), '20');
    assert.match(first.headers.get('x-quota-reset'), /^\d{4}-\d{2}-01T00:00:00Z$/);
    const used = first.json.usage.prompt_tokens + first.json.usage.completion_tokens;
    assert.ok(used >= 20, `one answer uses up the quota (${used} tokens)`);

    const refused = await post(capped, chat('hi'));
    assert.equal(refused.status, 429);
    assertOpenAIError(assert, refused.json, { type: 'insufficient_quota', code: 'insufficient_quota' });
    assert.equal(refused.headers.get('x-quota-remaining-tokens'), '0');
    assert.equal((await post(pro, chat('hi'))).status, 200, 'another tier is not limited');

    await gateway.stop();  // writes the usage it queued
    gateway = await startGateway(configFile);
    const afterRestart = await post(capped, chat('hi'));
    assert.equal(afterRestart.status, 429, 'the count is seeded from the usage table');
    assertOpenAIError(assert, afterRestart.json, { type: 'insufficient_quota', code: 'insufficient_quota' });
    assert.equal(afterRestart.headers.get('x-quota-remaining-tokens'), '0');
  });
});
