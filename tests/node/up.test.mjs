// `genstack up stack.yaml`: a gateway plus autoscaled `genstack serve`
// replicas of stories260K. Load makes it add a replica, calm removes it
// again, idle scales to zero and the next request cold-starts one, and
// SIGTERM leaves no replica behind. Timeouts are generous; speed is never asserted.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { MODEL_ID, MODEL_PATH, REQUEST_TIMEOUT_MS, postJSON, startServer } from './harness.mjs';
import { createKey, eventually, makeWorkDir, metricValue, startGateway, writeConfig } from './gateway_harness.mjs';

const SCALE_TIMEOUT_MS = 180_000;

/** Starts `genstack up FILE`; the replicas' PIDs are read from its log. */
async function startUp(stackFile) {
  const pids = new Set();
  const up = await startGateway(stackFile, {
    argv: ['up', stackFile], what: 'genstack up', waitHealth: false, stopGraceMs: 30_000,
    onStderr: (d) => { for (const m of d.matchAll(/\(pid (\d+)\) ready/g)) pids.add(Number(m[1])); },
  });
  return { ...up, pids };
}

const alive = (pid) => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

async function metric(baseURL, name) {
  const r = await fetch(`${baseURL}/metrics`);
  return metricValue(await r.text(), name, { model: MODEL_ID });
}

function stackConfig(work, replicas) {
  return {
    listen: '127.0.0.1:0',
    tiers: { pro: { models: ['*'] } },
    keys: { db: work.db },
    health: { interval_s: 1, timeout_s: 2 },
    models: [{ name: MODEL_ID, model: path.resolve(MODEL_PATH), serve_args: ['--parallel', '1'], replicas }],
  };
}

const chat = (max_tokens) => ({ model: MODEL_ID, messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens });

describe('genstack up: scaling with the load', () => {
  let work, up, key;

  before(async () => {
    work = makeWorkDir();
    key = createKey(work.db, 'pro', 'up-key');
    up = await startUp(writeConfig(work.dir, stackConfig(work, { min: 1, max: 2, target_queue: 1, cooldown_s: 2 })));
    await eventually('one replica', async () => (await metric(up.baseURL, 'genstack_up_replicas')) === 1, SCALE_TIMEOUT_MS);
  });

  after(async () => {
    await up?.stop();
    work?.remove();
  });

  test('the OpenAI SDK works through it, streaming and not', async () => {
    const openai = new OpenAI({ baseURL: `${up.baseURL}/v1`, apiKey: key.secret, maxRetries: 0, timeout: REQUEST_TIMEOUT_MS });
    const answer = await openai.chat.completions.create(chat(8));
    assert.ok(answer.choices[0].message.content.length > 0);
    let text = '';
    for await (const chunk of await openai.chat.completions.create({ ...chat(8), stream: true })) {
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    assert.ok(text.length > 0);
  });

  test('a burst adds a replica, and calm removes it again', async () => {
    let loading = true;
    const client = async () => {
      while (loading) {
        const r = await postJSON(up.baseURL, '/v1/chat/completions', chat(200), { headers: { Authorization: `Bearer ${key.secret}` } });
        assert.equal(r.status, 200, JSON.stringify(r.json));
      }
    };
    const clients = Array.from({ length: 12 }, client);
    try {
      await eventually('two replicas under load', async () => (await metric(up.baseURL, 'genstack_up_replicas')) === 2, SCALE_TIMEOUT_MS);
    } finally {
      loading = false;
      await Promise.all(clients);
    }
    assert.match(up.logs(), /up: stories260K 1 -> 2 replicas \(queue [\d.]+ > 1\)/);
    assert.equal(up.pids.size, 2);
    await eventually('back to one replica', async () => (await metric(up.baseURL, 'genstack_up_replicas')) === 1, SCALE_TIMEOUT_MS);
    assert.match(up.logs(), /up: stories260K 2 -> 1 replicas/);
    await eventually('the drained replica stopped', async () => [...up.pids].filter(alive).length === 1, SCALE_TIMEOUT_MS);
  });

  test('SIGTERM stops every replica', async () => {
    const pids = [...up.pids];
    assert.ok(pids.length >= 2);
    const exit = await up.stop();
    assert.equal(exit.code, 0, up.logs());
    for (const pid of pids) assert.equal(alive(pid), false, `replica pid ${pid} still runs`);
  });
});

describe('genstack up: scale to zero and cold start', () => {
  let work, up, key;

  before(async () => {
    work = makeWorkDir();
    key = createKey(work.db, 'pro', 'up-key');
    up = await startUp(writeConfig(work.dir, stackConfig(work, { min: 1, max: 1, target_queue: 4, idle_to_zero_s: 2 })));
  });

  after(async () => {
    await up?.stop();
    work?.remove();
  });

  test('idle goes to zero replicas; the next request starts one and succeeds', async () => {
    await eventually('zero replicas after idling', async () => (await metric(up.baseURL, 'genstack_up_replicas')) === 0, SCALE_TIMEOUT_MS);
    assert.match(up.logs(), /up: stories260K 1 -> 0 replicas \(idle/);
    await eventually('the idle replica stopped', async () => [...up.pids].filter(alive).length === 0, SCALE_TIMEOUT_MS);
    const r = await postJSON(up.baseURL, '/v1/chat/completions', chat(8), { headers: { Authorization: `Bearer ${key.secret}` }, timeout: SCALE_TIMEOUT_MS });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.match(up.logs(), /up: stories260K 0 -> 1 replicas \(cold start\)/);
    assert.equal(up.pids.size, 2);
    const pids = [...up.pids];
    const exit = await up.stop();
    assert.equal(exit.code, 0, up.logs());
    for (const pid of pids) assert.equal(alive(pid), false, `replica pid ${pid} still runs`);
  });
});

describe('genstack up: a cold start that fails', () => {
  test('503 with Retry-After when no replica becomes ready in time', async () => {
    const work = makeWorkDir();
    const key = createKey(work.db, 'pro', 'up-key');
    const config = stackConfig(work, { min: 0, max: 1 });
    config.models[0].model = path.join(work.dir, 'missing.gguf');
    config.models[0].start_timeout_s = 3;
    const up = await startUp(writeConfig(work.dir, config));
    try {
      const r = await postJSON(up.baseURL, '/v1/chat/completions', chat(8), { headers: { Authorization: `Bearer ${key.secret}` } });
      assert.equal(r.status, 503, r.text);
      assert.equal(r.headers.get('retry-after'), '5');
      assert.equal(r.json.error.code, 'model_starting');
      assert.equal((await fetch(`${up.baseURL}/health`)).status, 200, 'the gateway keeps serving');
    } finally {
      assert.equal((await up.stop()).code, 0, up.logs());
      work.remove();
    }
  });

  test("a model's fallback answers instead, under its alias too", async () => {
    const work = makeWorkDir();
    const key = createKey(work.db, 'pro', 'up-key');
    const spare = await startServer();
    const config = stackConfig(work, { min: 0, max: 1 });
    config.upstreams = [{ name: 'spare', url: spare.baseURL }];
    config.models[0].model = path.join(work.dir, 'missing.gguf');
    config.models[0].start_timeout_s = 2;
    config.models[0].fallback = ['spare'];
    config.models[0].aliases = ['tiny-alias'];
    const up = await startUp(writeConfig(work.dir, config));
    try {
      const headers = { Authorization: `Bearer ${key.secret}` };
      for (const model of [MODEL_ID, 'tiny-alias']) {
        const r = await postJSON(up.baseURL, '/v1/chat/completions', { ...chat(8), model }, { headers });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.model, MODEL_ID);
        assert.ok(r.json.choices[0].message.content.length > 0);
      }
    } finally {
      assert.equal((await up.stop()).code, 0, up.logs());
      await spare.stop();
      work.remove();
    }
  });
});
