// The Ollama API (/api/*) through the official `ollama` JavaScript client.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import { startServer, postJSON, MODEL_ID, REQUEST_TIMEOUT_MS, pickStop } from './harness.mjs';

const T = { timeout: REQUEST_TIMEOUT_MS * 2 };
const messages = [{ role: 'user', content: 'Tell me a story about a frog.' }];
const PROMPT = 'Once upon a time, there was a big';

// Ollama accepts a model name with or without the ":latest" tag.
const isOurModel = (name) => name === MODEL_ID || name === `${MODEL_ID}:latest`;

function assertFinal(r, numPredict) {
  assert.equal(r.done, true);
  assert.ok(['stop', 'length'].includes(r.done_reason), `done_reason ${r.done_reason}`);
  for (const k of ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration']) {
    assert.ok(Number.isInteger(r[k]) && r[k] >= 0, `${k} is an integer (nanoseconds): ${r[k]}`);
  }
  assert.ok(r.total_duration > 0, 'total_duration > 0');
  assert.ok(Number.isInteger(r.prompt_eval_count) && r.prompt_eval_count > 0, 'prompt_eval_count > 0');
  assert.ok(Number.isInteger(r.eval_count) && r.eval_count >= 1 && r.eval_count <= numPredict, `eval_count ${r.eval_count}`);
  if (r.done_reason === 'length') assert.equal(r.eval_count, numPredict, 'length means num_predict tokens');
  assert.ok(r.total_duration >= r.eval_duration, 'total_duration >= eval_duration');
}

function assertCreatedAt(s) {
  assert.equal(typeof s, 'string');
  assert.ok(!Number.isNaN(Date.parse(s)), `created_at is a date: ${s}`);
  assert.ok(Math.abs(Date.parse(s) - Date.now()) < 3600_000, `created_at is now: ${s}`);
}

describe('Ollama API', () => {
  let server;
  let ollama;
  before(async () => {
    server = await startServer({ args: ['--parallel', '4', '--ctx', '2048'] });
    ollama = new Ollama({ host: server.baseURL });
  });
  after(async () => { await server?.stop(); });

  const chat = (extra = {}) => ollama.chat({
    model: MODEL_ID, messages, stream: false, options: { temperature: 0, num_predict: 24 }, ...extra,
  });
  const generate = (extra = {}) => ollama.generate({
    model: MODEL_ID, prompt: PROMPT, stream: false, options: { temperature: 0, num_predict: 24 }, ...extra,
  });

  test('chat, stream false: one response object', T, async () => {
    const r = await chat();
    assert.ok(isOurModel(r.model), r.model);
    assertCreatedAt(r.created_at);
    assert.equal(r.message.role, 'assistant');
    assert.equal(typeof r.message.content, 'string');
    assertFinal(r, 24);
  });

  test('chat, streamed (NDJSON): parts concatenate to the non-streamed text', T, async () => {
    const ref = await chat();
    const parts = [];
    for await (const part of await chat({ stream: true })) parts.push(part);
    assert.ok(parts.length >= 2, `several parts (${parts.length})`);
    for (const p of parts.slice(0, -1)) {
      assert.equal(p.done, false);
      assert.ok(isOurModel(p.model));
      assertCreatedAt(p.created_at);
      assert.equal(p.message.role, 'assistant');
    }
    const last = parts.at(-1);
    assertFinal(last, 24);
    assert.equal(last.eval_count, ref.eval_count);
    assert.equal(last.done_reason, ref.done_reason);
    assert.equal(parts.map((p) => p.message.content).join(''), ref.message.content);
  });

  test('chat streams by default: raw NDJSON lines, application/x-ndjson', T, async () => {
    const r = await fetch(`${server.baseURL}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: MODEL_ID, messages, options: { temperature: 0, num_predict: 6 } }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    const body = await r.text();
    assert.ok(body.endsWith('\n'), 'each object ends with a newline');
    const lines = body.split('\n').filter((l) => l !== '');
    const objs = lines.map((l) => JSON.parse(l));
    assert.ok(objs.length >= 2);
    assert.equal(objs.at(-1).done, true);
    assert.ok(objs.slice(0, -1).every((o) => o.done === false));
  });

  test('generate, stream false and streamed, agree', T, async () => {
    const ref = await generate();
    assert.ok(isOurModel(ref.model));
    assertCreatedAt(ref.created_at);
    assert.equal(typeof ref.response, 'string');
    assert.ok(ref.response.length > 0);
    assertFinal(ref, 24);
    const parts = [];
    for await (const part of await generate({ stream: true })) parts.push(part);
    assert.ok(parts.slice(0, -1).every((p) => p.done === false && typeof p.response === 'string'));
    assertFinal(parts.at(-1), 24);
    assert.equal(parts.map((p) => p.response).join(''), ref.response);
  });

  test('options.num_predict limits the length', T, async () => {
    const r = await generate({ options: { temperature: 0, num_predict: 3 } });
    assert.ok(r.eval_count <= 3);
  });

  test('options.seed with temperature 1 reproduces the text', T, async (t) => {
    const sampled = (seed) => generate({ options: { temperature: 1, seed, num_predict: 24, top_k: 100, top_p: 1 } }).then((r) => r.response);
    const a = await sampled(99);
    assert.equal(await sampled(99), a);
    if ((await sampled(100)) === a) t.diagnostic('seeds 99 and 100 gave the same text (possible, not asserted)');
  });

  test('options.stop truncates before the stop string', T, async (t) => {
    const ref = await generate({ options: { temperature: 0, num_predict: 32 } });
    if (ref.done_reason !== 'length') { t.skip('the greedy text ended early (end of text)'); return; }
    const stop = pickStop(ref.response);
    const r = await generate({ options: { temperature: 0, num_predict: 32, stop: [stop] } });
    assert.equal(r.response, ref.response.slice(0, ref.response.indexOf(stop)));
    assert.equal(r.done_reason, 'stop');
  });

  test('other options, keep_alive and num_ctx are accepted', T, async () => {
    const r = await chat({
      keep_alive: '5m',
      options: { temperature: 0.7, top_k: 20, top_p: 0.9, min_p: 0.05, repeat_penalty: 1.1, num_ctx: 1024, seed: 3, num_predict: 4 },
    });
    assert.equal(r.done, true);
    assert.ok(r.eval_count <= 4);
  });

  test('list (/api/tags) lists the model with details', T, async () => {
    const r = await ollama.list();
    assert.ok(Array.isArray(r.models));
    const m = r.models.find((x) => isOurModel(x.name) || isOurModel(x.model));
    assert.ok(m, `model listed: ${JSON.stringify(r.models.map((x) => x.name))}`);
    assert.ok(isOurModel(m.name) && isOurModel(m.model));
    assert.ok(Number.isInteger(m.size) && m.size > 0, 'size in bytes');
    assert.equal(typeof m.digest, 'string');
    assert.ok(!Number.isNaN(Date.parse(m.modified_at)), 'modified_at is a date');
    assert.equal(m.details.format, 'gguf');
    assert.equal(m.details.family, 'llama');
    assert.equal(typeof m.details.parameter_size, 'string');
    assert.equal(typeof m.details.quantization_level, 'string');
    // The name as listed works in a request.
    const c = await chat({ model: m.name, options: { temperature: 0, num_predict: 2 } });
    assert.equal(c.done, true);
  });

  test('show returns details and model_info', T, async () => {
    const r = await ollama.show({ model: MODEL_ID });
    assert.equal(r.details.format, 'gguf');
    assert.equal(r.details.family, 'llama');
    assert.ok(r.model_info && typeof r.model_info === 'object');
    assert.equal(r.model_info['general.architecture'], 'llama');
  });

  test('ps lists the loaded model', T, async () => {
    await generate({ options: { temperature: 0, num_predict: 1 } });
    const r = await ollama.ps();
    assert.ok(Array.isArray(r.models));
    const m = r.models.find((x) => isOurModel(x.name) || isOurModel(x.model));
    assert.ok(m, `running model listed: ${JSON.stringify(r.models)}`);
    assert.ok(Number.isInteger(m.size) && m.size > 0);
    assert.ok(!Number.isNaN(Date.parse(m.expires_at)), 'expires_at is a date');
  });

  test('version', T, async () => {
    const r = await ollama.version();
    assert.equal(typeof r.version, 'string');
    assert.match(r.version, /^\d+\.\d+\.\d+/);
  });

  test('unknown model: ResponseError 404 with an error string', T, async () => {
    for (const call of [
      () => ollama.chat({ model: 'no-such-model', messages, stream: false }),
      () => ollama.generate({ model: 'no-such-model', prompt: 'x', stream: false }),
      () => ollama.show({ model: 'no-such-model' }),
    ]) {
      await assert.rejects(call(), (err) => {
        assert.equal(err.name, 'ResponseError', `${err.name}: ${err.message}`);
        assert.equal(err.status_code, 404);
        assert.equal(typeof err.error, 'string', 'Ollama errors are {"error": "message"}');
        assert.ok(err.error.length > 0 && err.error !== '[object Object]');
        return true;
      });
    }
  });

  test('bad request: ResponseError 400', T, async () => {
    await assert.rejects(ollama.chat({ model: MODEL_ID, messages: 'hello', stream: false }), (err) => {
      assert.equal(err.name, 'ResponseError');
      assert.equal(err.status_code, 400);
      assert.equal(typeof err.error, 'string');
      return true;
    });
    const raw = await postJSON(server.baseURL, '/api/generate', '{"model": ');
    assert.equal(raw.status, 400);
    assert.equal(typeof raw.json?.error, 'string', `{"error": "..."}: ${raw.text}`);
  });
});
