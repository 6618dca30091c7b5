// /v1/completions and /v1/models through the official OpenAI client. The
// server serves the same file under two ids: `stories260K` (the file stem)
// and `story2` (NAME=PATH).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import {
  startServer, openaiClient, getURL, MODEL_ID, MODEL_PATH, REQUEST_TIMEOUT_MS,
  assertOpenAIError, assertTimings, assertUsage, pickStop,
} from './harness.mjs';

const T = { timeout: REQUEST_TIMEOUT_MS * 2 };
const PROMPT = 'Once upon a time, there was a little girl named';

describe('OpenAI completions and models', () => {
  let server;
  let client;
  before(async () => {
    server = await startServer({ models: [MODEL_PATH, `story2=${MODEL_PATH}`], args: ['--parallel', '4', '--ctx', '2048'] });
    client = openaiClient(server.baseURL);
  });
  after(async () => { await server?.stop(); });

  const complete = (extra = {}) => client.completions.create({
    model: MODEL_ID, prompt: PROMPT, max_tokens: 24, temperature: 0, ignore_eos: true, ...extra,
  });

  test('non-streaming completion has the OpenAI shape', T, async () => {
    const r = await complete();
    assert.match(r.id, /^cmpl-/);
    assert.equal(r.object, 'text_completion');
    assert.ok(Number.isInteger(r.created));
    assert.equal(r.model, MODEL_ID);
    assert.equal(r.choices.length, 1);
    const c = r.choices[0];
    assert.equal(c.index, 0);
    assert.equal(typeof c.text, 'string');
    assert.ok(c.text.length > 0);
    assert.equal(c.finish_reason, 'length');
    assert.ok(c.logprobs === null || c.logprobs === undefined, 'no logprobs unless asked');
    assertUsage(assert, r.usage);
    assert.equal(r.usage.completion_tokens, 24);
    assertTimings(assert, r.timings, r.usage);
  });

  test('max_tokens is honoured', T, async () => {
    for (const n of [1, 5]) {
      const r = await complete({ max_tokens: n });
      assert.equal(r.usage.completion_tokens, n);
      assert.equal(r.choices[0].finish_reason, 'length');
    }
  });

  test('streaming: text chunks concatenate to the non-streamed text; usage chunk last', T, async () => {
    const ref = await complete();
    const stream = await complete({ stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const ch of stream) chunks.push(ch);
    const id = chunks[0].id;
    assert.match(id, /^cmpl-/);
    for (const ch of chunks) {
      assert.equal(ch.object, 'text_completion');
      assert.equal(ch.id, id);
      assert.equal(ch.model, MODEL_ID);
    }
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assertUsage(assert, last.usage);
    assert.equal(last.usage.completion_tokens, ref.usage.completion_tokens);
    assert.equal(last.usage.prompt_tokens, ref.usage.prompt_tokens);
    const withChoices = chunks.filter((ch) => ch.choices.length > 0);
    const finals = withChoices.filter((ch) => ch.choices[0].finish_reason != null);
    assert.equal(finals.length, 1);
    assert.equal(finals[0], withChoices.at(-1));
    assert.equal(finals[0].choices[0].finish_reason, 'length');
    assertTimings(assert, finals[0].timings ?? last.timings, last.usage);
    assert.equal(withChoices.map((ch) => ch.choices[0].text).join(''), ref.choices[0].text);
  });

  test('prompt array: one choice per prompt, each equal to the single-prompt result', T, async () => {
    const prompts = [PROMPT, 'The big red ball'];
    const singles = [];
    for (const p of prompts) singles.push(await complete({ prompt: p }));
    const r = await complete({ prompt: prompts });
    assert.equal(r.choices.length, 2);
    const byIndex = [...r.choices].sort((a, b) => a.index - b.index);
    assert.deepEqual(byIndex.map((c) => c.index), [0, 1]);
    for (let i = 0; i < 2; i++) assert.equal(byIndex[i].text, singles[i].choices[0].text, `choice ${i}`);
    assertUsage(assert, r.usage);
    assert.equal(r.usage.prompt_tokens, singles[0].usage.prompt_tokens + singles[1].usage.prompt_tokens);
    assert.equal(r.usage.completion_tokens, 48);
  });

  test('stop string works on completions too', T, async () => {
    const full = (await complete()).choices[0].text;
    const word = pickStop(full);
    const r = await complete({ stop: word });
    assert.equal(r.choices[0].text, full.slice(0, full.indexOf(word)));
    assert.equal(r.choices[0].finish_reason, 'stop');
  });

  test('logprobs (integer) give tokens, token_logprobs, top_logprobs and text_offset', T, async () => {
    const r = await complete({ max_tokens: 8, logprobs: 2 });
    const c = r.choices[0];
    const lp = c.logprobs;
    assert.ok(lp && typeof lp === 'object', 'logprobs object');
    const n = r.usage.completion_tokens;
    assert.equal(lp.tokens.length, n);
    assert.equal(lp.token_logprobs.length, n);
    assert.equal(lp.top_logprobs.length, n);
    assert.equal(lp.text_offset.length, n);
    assert.equal(lp.tokens.join(''), c.text, 'tokens concatenate to the text');
    for (let i = 0; i < n; i++) {
      assert.equal(typeof lp.tokens[i], 'string');
      assert.ok(lp.token_logprobs[i] <= 0);
      const top = lp.top_logprobs[i];
      assert.ok(top && typeof top === 'object' && !Array.isArray(top), 'top_logprobs entry is a {token: logprob} map');
      const vals = Object.values(top);
      assert.ok(vals.length >= 1 && vals.length <= 2, `at most 2 alternatives: ${JSON.stringify(top)}`);
      assert.ok(vals.every((v) => typeof v === 'number' && v <= 0));
      // Greedy: the chosen token has the best logprob.
      assert.ok(lp.token_logprobs[i] >= Math.max(...vals) - 1e-3);
      assert.ok(Number.isInteger(lp.text_offset[i]));
      if (i > 0) assert.equal(lp.text_offset[i], lp.text_offset[i - 1] + lp.tokens[i - 1].length, 'text_offset advances by token length');
    }
  });

  test('models.list() lists both ids; models.retrieve()', T, async () => {
    const ids = [];
    for await (const m of client.models.list()) {
      assert.equal(m.object, 'model');
      assert.ok(Number.isInteger(m.created));
      assert.equal(typeof m.owned_by, 'string');
      ids.push(m.id);
    }
    assert.ok(ids.includes(MODEL_ID), `${MODEL_ID} in ${ids}`);
    assert.ok(ids.includes('story2'), `story2 in ${ids}`);
    const raw = await getURL(server.baseURL, '/v1/models');
    assert.equal(raw.status, 200);
    assert.equal(raw.json.object, 'list');
    assert.ok(Array.isArray(raw.json.data));

    const m = await client.models.retrieve(MODEL_ID);
    assert.equal(m.id, MODEL_ID);
    assert.equal(m.object, 'model');
    await assert.rejects(client.models.retrieve('no-such-model'), (err) => {
      assert.ok(err instanceof OpenAI.NotFoundError, `NotFoundError, got ${err?.constructor?.name}`);
      assert.equal(err.status, 404);
      return true;
    });
  });

  test('a NAME=PATH model answers under its own name', T, async () => {
    const a = await complete();
    const b = await complete({ model: 'story2' });
    assert.equal(b.model, 'story2');
    assert.equal(b.choices[0].text, a.choices[0].text, 'same file, same greedy text');
  });

  test('errors: unknown model 404, missing prompt 400, prompt of the wrong type 400', T, async () => {
    await assert.rejects(complete({ model: 'nope' }), (err) => err instanceof OpenAI.NotFoundError && err.code === 'model_not_found');
    for (const prompt of [undefined, 42, { text: 'x' }]) {
      await assert.rejects(complete({ prompt }), (err) => {
        assert.ok(err instanceof OpenAI.BadRequestError, `prompt ${JSON.stringify(prompt)}: ${err?.constructor?.name}`);
        assertOpenAIError(assert, err.error ? { error: err.error } : undefined, { type: 'invalid_request_error' });
        return true;
      });
    }
  });
});
