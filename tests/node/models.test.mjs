// Several models: loaded on first use, listed by /api/ps and /v1/models,
// unloaded after their keep-alive (the server's --keep-alive, or Ollama's
// per-request keep_alive) and when --max-memory needs the room.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, getURL, postJSON, MODEL_ID, MODEL_PATH, sleep } from './harness.mjs';

const loadedNames = async (baseURL) => {
  const r = await getURL(baseURL, '/api/ps');
  assert.equal(r.status, 200);
  return r.json.models.map((m) => m.name).sort();
};

async function waitFor(predicate, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const generate = (baseURL, model, extra = {}) =>
  postJSON(baseURL, '/api/generate', { model, prompt: 'Once upon a time', stream: false, options: { num_predict: 4 }, ...extra });

describe('several models', () => {
  const started = [];
  after(async () => { for (const s of started) await s.stop(); });

  test('loaded on first use, unloaded after keep-alive, reloaded on demand', { timeout: 120_000 }, async () => {
    const s = await startServer({ models: [MODEL_PATH, `story2=${MODEL_PATH}`], args: ['--ctx', '512', '--keep-alive', '2s'] });
    started.push(s);
    assert.deepEqual(await loadedNames(s.baseURL), [MODEL_ID], 'the first model is loaded at start');
    const models = await getURL(s.baseURL, '/v1/models');
    assert.deepEqual(models.json.data.map((m) => m.id).sort(), [MODEL_ID, 'story2'], 'every served model is listed');
    const r = await generate(s.baseURL, 'story2');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(await loadedNames(s.baseURL), [MODEL_ID, 'story2']);
    await waitFor(async () => (await loadedNames(s.baseURL)).length === 0, 20_000, 'both models to unload');
    const again = await generate(s.baseURL, MODEL_ID);
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(await loadedNames(s.baseURL), [MODEL_ID], 'reloaded on demand');
  });

  test("Ollama's keep_alive 0 unloads right after the request; -1 keeps it", { timeout: 120_000 }, async () => {
    const s = await startServer({ models: [MODEL_PATH, `story2=${MODEL_PATH}`], args: ['--ctx', '512', '--keep-alive', '5m'] });
    started.push(s);
    assert.equal((await generate(s.baseURL, 'story2', { keep_alive: 0 })).status, 200);
    await waitFor(async () => !(await loadedNames(s.baseURL)).includes('story2'), 20_000, 'story2 to unload');
    assert.equal((await generate(s.baseURL, MODEL_ID, { keep_alive: -1 })).status, 200);
    await sleep(2500);
    assert.ok((await loadedNames(s.baseURL)).includes(MODEL_ID), 'keep_alive -1 keeps the model');
  });

  test('--max-memory: loading another model unloads the least recently used idle one', { timeout: 120_000 }, async () => {
    // A budget smaller than two copies of the model: only one fits at a time.
    const s = await startServer({ models: [MODEL_PATH, `story2=${MODEL_PATH}`], args: ['--ctx', '512', '--max-memory', '0.0001'] });
    started.push(s);
    assert.deepEqual(await loadedNames(s.baseURL), [MODEL_ID]);
    assert.equal((await generate(s.baseURL, 'story2')).status, 200);
    assert.deepEqual(await loadedNames(s.baseURL), ['story2'], 'the idle first model made room');
    assert.equal((await generate(s.baseURL, MODEL_ID)).status, 200);
    assert.deepEqual(await loadedNames(s.baseURL), [MODEL_ID]);
  });
});
