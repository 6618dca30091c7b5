// /v1/chat/completions through the official OpenAI client (and raw fetch for
// the SSE framing).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Ajv from 'ajv';
import OpenAI from 'openai';
import {
  startServer, openaiClient, postJSON, sseEvents, MODEL_ID, REQUEST_TIMEOUT_MS,
  assertOpenAIError, assertTimings, assertUsage, overlongPrompt, pickStop,
} from './harness.mjs';

const CTX = 2048;
const T = { timeout: REQUEST_TIMEOUT_MS * 2 };
const messages = [{ role: 'user', content: 'Tell me a story about a cat.' }];

describe('OpenAI chat completions', () => {
  let server;
  let client;
  before(async () => {
    server = await startServer({ args: ['--parallel', '4', '--ctx', String(CTX)] });
    client = openaiClient(server.baseURL);
  });
  after(async () => { await server?.stop(); });

  // Greedy, fixed length: the reference the other tests compare against.
  const greedy = (extra = {}) => client.chat.completions.create({
    model: MODEL_ID, messages, max_tokens: 32, temperature: 0, ignore_eos: true, ...extra,
  });

  test('non-streaming response has the OpenAI shape, usage and timings', T, async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await greedy();
    const afterS = Math.ceil(Date.now() / 1000);
    assert.equal(typeof r.id, 'string');
    assert.match(r.id, /^chatcmpl-/);
    assert.equal(r.object, 'chat.completion');
    assert.ok(Number.isInteger(r.created) && r.created >= before - 5 && r.created <= afterS + 5, `created in seconds: ${r.created}`);
    assert.equal(r.model, MODEL_ID);
    assert.equal(r.choices.length, 1);
    const c = r.choices[0];
    assert.equal(c.index, 0);
    assert.equal(c.message.role, 'assistant');
    assert.equal(typeof c.message.content, 'string');
    assert.ok(c.message.content.length > 0, 'content not empty');
    assert.equal(c.finish_reason, 'length');
    assertUsage(assert, r.usage);
    assert.equal(r.usage.completion_tokens, 32);
    assertTimings(assert, r.timings, r.usage);
  });

  test('greedy output is deterministic', T, async () => {
    const a = await greedy();
    const b = await greedy();
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
  });

  test('streaming with include_usage: deltas concatenate to the non-streamed text', T, async () => {
    const ref = await greedy();
    const stream = await greedy({ stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.length >= 3, `several chunks (${chunks.length})`);
    const id = chunks[0].id;
    assert.match(id, /^chatcmpl-/);
    for (const ch of chunks) {
      assert.equal(ch.object, 'chat.completion.chunk');
      assert.equal(ch.id, id, 'one id for all chunks');
      assert.equal(ch.model, MODEL_ID);
      assert.ok(Number.isInteger(ch.created));
    }
    const usageChunk = chunks.at(-1);
    assert.deepEqual(usageChunk.choices, [], 'the usage chunk has empty choices');
    assertUsage(assert, usageChunk.usage);
    assert.deepEqual(
      { p: usageChunk.usage.prompt_tokens, c: usageChunk.usage.completion_tokens },
      { p: ref.usage.prompt_tokens, c: ref.usage.completion_tokens });

    const withChoices = chunks.filter((ch) => ch.choices.length > 0);
    for (const ch of withChoices) {
      assert.equal(ch.choices.length, 1);
      assert.equal(ch.choices[0].index, 0);
    }
    assert.equal(withChoices[0].choices[0].delta.role, 'assistant', 'first delta carries the role');
    const finals = withChoices.filter((ch) => ch.choices[0].finish_reason != null);
    assert.equal(finals.length, 1, 'exactly one chunk has a finish_reason');
    assert.equal(finals[0], withChoices.at(-1), 'the finish_reason chunk is the last with choices');
    assert.equal(finals[0].choices[0].finish_reason, 'length');
    // timings ride on the finish_reason chunk (also accepted: on the usage chunk).
    assertTimings(assert, finals[0].timings ?? usageChunk.timings, usageChunk.usage);

    const text = withChoices.map((ch) => ch.choices[0].delta.content ?? '').join('');
    assert.equal(text, ref.choices[0].message.content);
  });

  test('raw SSE framing: data: lines, text/event-stream, ends with [DONE]', T, async () => {
    const r = await fetch(`${server.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL_ID, messages, max_tokens: 8, temperature: 0, ignore_eos: true, stream: true }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = [];
    for await (const data of sseEvents(r.body)) events.push(data);
    assert.equal(events.at(-1), '[DONE]');
    assert.equal(events.filter((e) => e === '[DONE]').length, 1);
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
    // Without include_usage no chunk has empty choices.
    assert.ok(chunks.every((c) => Array.isArray(c.choices) && c.choices.length === 1));
  });

  test('stop sequence truncates before the stop string, finish_reason "stop"', T, async () => {
    const full = (await greedy()).choices[0].message.content;
    const stop = pickStop(full);
    const cut = full.indexOf(stop);
    for (const stopParam of [[stop], stop]) {
      const r = await greedy({ stop: stopParam });
      assert.equal(r.choices[0].finish_reason, 'stop', `stop ${JSON.stringify(stopParam)}`);
      assert.equal(r.choices[0].message.content, full.slice(0, cut),
        `output ends right before ${JSON.stringify(stop)} in ${JSON.stringify(full)}`);
      assert.ok(r.usage.completion_tokens < 32, 'generation stopped early');
    }
    // Streamed: no part of the stop string is sent.
    const stream = await greedy({ stop: [stop], stream: true });
    let text = '';
    let finish = null;
    for await (const ch of stream) {
      for (const c of ch.choices) {
        text += c.delta.content ?? '';
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    assert.equal(text, full.slice(0, cut), 'streamed text ends right before the stop string');
    assert.equal(finish, 'stop');
    // A stop string that never occurs changes nothing.
    const r = await greedy({ stop: ['\u0001never\u0002', 'zzzzqqqq'] });
    assert.equal(r.choices[0].message.content, full);
    assert.equal(r.choices[0].finish_reason, 'length');
  });

  test('a stop string spanning two tokens is never partly streamed', T, async () => {
    // Token boundaries from logprobs: the stop string is the end of one token
    // and the start of the next, so a server must hold back the first part.
    const ref = await greedy({ logprobs: true });
    const full = ref.choices[0].message.content;
    const toks = ref.choices[0].logprobs.content.map((e) => e.token);
    assert.equal(toks.join(''), full, 'logprobs tokens concatenate to the content');
    let stop = null;
    let cut = -1;
    for (let k = Math.floor(toks.length / 3), off = toks.slice(0, k).join('').length; k + 1 < toks.length; off += toks[k].length, k++) {
      const a = toks[k].slice(-2);
      const b = toks[k + 1].slice(0, 2);
      const s = a + b;
      if (a.length === 0 || b.length === 0 || s.trim() !== s || s.length < 2) continue;
      if (full.indexOf(s) === off + toks[k].length - a.length) { stop = s; cut = full.indexOf(s); break; }
    }
    assert.ok(stop !== null, `found a stop string across a token boundary in ${JSON.stringify(toks)}`);
    const r = await greedy({ stop });
    assert.equal(r.choices[0].message.content, full.slice(0, cut));
    assert.equal(r.choices[0].finish_reason, 'stop');
    const stream = await greedy({ stop, stream: true });
    const deltas = [];
    for await (const ch of stream) for (const c of ch.choices) if (c.delta.content) deltas.push(c.delta.content);
    assert.equal(deltas.join(''), full.slice(0, cut), `streamed deltas ${JSON.stringify(deltas)} end right before ${JSON.stringify(stop)}`);
  });

  test('n=3 with temperature 1 and a seed gives choices 0..2', T, async () => {
    const r = await client.chat.completions.create({
      model: MODEL_ID, messages, max_tokens: 16, temperature: 1, seed: 42, n: 3, ignore_eos: true,
    });
    assert.equal(r.choices.length, 3);
    assert.deepEqual(r.choices.map((c) => c.index).sort(), [0, 1, 2]);
    for (const c of r.choices) {
      assert.equal(c.message.role, 'assistant');
      assert.equal(typeof c.message.content, 'string');
      assert.equal(c.finish_reason, 'length');
    }
    assert.ok(new Set(r.choices.map((c) => c.message.content)).size >= 2, 'the three samples are not all identical');
    assertUsage(assert, r.usage);
    assert.equal(r.usage.completion_tokens, 48, 'completion_tokens counts all choices (3 x 16)');
  });

  test('same seed and temperature 1 reproduce the same text', T, async (t) => {
    const sampled = (seed) => client.chat.completions.create({
      model: MODEL_ID, messages, max_tokens: 24, temperature: 1, seed, ignore_eos: true,
    }).then((r) => r.choices[0].message.content);
    const a = await sampled(1234);
    const b = await sampled(1234);
    assert.equal(a, b);
    const c = await sampled(4321);
    if (c === a) t.diagnostic('seeds 1234 and 4321 gave the same text (possible, not asserted)');
  });

  test('logprobs with top_logprobs 3', T, async () => {
    const r = await greedy({ max_tokens: 8, logprobs: true, top_logprobs: 3 });
    const lp = r.choices[0].logprobs;
    assert.ok(lp && Array.isArray(lp.content), 'choices[0].logprobs.content is an array');
    assert.equal(lp.content.length, r.usage.completion_tokens, 'one entry per generated token');
    for (const e of lp.content) {
      assert.equal(typeof e.token, 'string');
      assert.equal(typeof e.logprob, 'number');
      assert.ok(e.logprob <= 0, `logprob ${e.logprob} <= 0`);
      assert.ok(e.bytes === null || e.bytes === undefined || (Array.isArray(e.bytes) && e.bytes.every((x) => Number.isInteger(x) && x >= 0 && x < 256)));
      assert.equal(e.top_logprobs.length, 3);
      for (const tl of e.top_logprobs) {
        assert.equal(typeof tl.token, 'string');
        assert.ok(tl.logprob <= 0);
      }
      for (let i = 1; i < 3; i++) assert.ok(e.top_logprobs[i - 1].logprob >= e.top_logprobs[i].logprob, 'top_logprobs sorted, most likely first');
      // Greedy: the chosen token is the most likely one.
      assert.ok(Math.abs(e.logprob - e.top_logprobs[0].logprob) < 1e-3, 'greedy pick has the top logprob');
    }
  });

  test('response_format json_schema: output parses and validates', T, async () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string' },
        age: { type: 'integer' },
        color: { type: 'string', enum: ['red', 'green', 'blue'] },
      },
      required: ['name', 'age', 'color'],
      additionalProperties: false,
    };
    const r = await client.chat.completions.create({
      model: MODEL_ID,
      messages: [{ role: 'user', content: 'Describe a child as JSON with a name, an age and a favourite color.' }],
      max_tokens: 200,
      temperature: 0,
      response_format: { type: 'json_schema', json_schema: { name: 'child', schema, strict: true } },
    });
    const text = r.choices[0].message.content;
    assert.equal(r.choices[0].finish_reason, 'stop', `finished within 200 tokens: ${text}`);
    let value;
    assert.doesNotThrow(() => { value = JSON.parse(text); }, `JSON.parse(${JSON.stringify(text)})`);
    const validate = new Ajv({ strict: true }).compile(schema);
    assert.ok(validate(value), `valid against the schema: ${JSON.stringify(validate.errors)} for ${text}`);
  });

  test('response_format json_object: output is a JSON object', T, async () => {
    const r = await client.chat.completions.create({
      model: MODEL_ID,
      messages: [{ role: 'user', content: 'Reply with a JSON object about a dog.' }],
      max_tokens: 200,
      temperature: 0,
      response_format: { type: 'json_object' },
    });
    const text = r.choices[0].message.content;
    // A free-form object has no size bound: a tiny model may keep adding keys
    // until max_tokens, and then the reply is a cut-off prefix (as OpenAI's
    // json mode documents). Either way it is the start of one object.
    assert.match(text, /^\s?\{/, `an object starts: ${text}`);
    if (r.choices[0].finish_reason === 'stop') {
      const value = JSON.parse(text);
      assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `an object: ${text}`);
    } else {
      assert.equal(r.choices[0].finish_reason, 'length');
      assert.throws(() => JSON.parse(text), 'a cut-off object does not parse');
    }
  });

  test('sampling fields and extensions are accepted', T, async () => {
    const r = await client.chat.completions.create({
      model: MODEL_ID,
      messages: [{ role: 'system', content: 'You tell stories.' }, ...messages,
        { role: 'assistant', content: 'Once upon a time' }, { role: 'user', content: 'Go on.' }],
      max_completion_tokens: 5,
      temperature: 0.8, top_p: 0.9, top_k: 40, min_p: 0.05, seed: 7,
      presence_penalty: 0.5, frequency_penalty: 0.5, user: 'test-user', priority: 0, ignore_eos: true,
    });
    assert.equal(r.usage.completion_tokens, 5, 'max_completion_tokens limits like max_tokens');
    assert.equal(r.choices[0].finish_reason, 'length');
  });

  test('tools are accepted; a tool call, if any, is well formed', T, async () => {
    const r = await client.chat.completions.create({
      model: MODEL_ID,
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      max_tokens: 32,
      temperature: 0,
      tools: [{
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      }],
      tool_choice: 'auto',
    });
    const c = r.choices[0];
    assert.ok(['stop', 'length', 'tool_calls'].includes(c.finish_reason), c.finish_reason);
    if (c.finish_reason === 'tool_calls') {
      assert.ok(Array.isArray(c.message.tool_calls) && c.message.tool_calls.length > 0);
      for (const call of c.message.tool_calls) {
        assert.equal(call.type, 'function');
        assert.equal(typeof call.id, 'string');
        assert.equal(typeof call.function.name, 'string');
        JSON.parse(call.function.arguments);
      }
    } else {
      assert.equal(typeof c.message.content, 'string');
    }
  });

  test('unknown model: NotFoundError 404, code model_not_found (streamed or not)', T, async () => {
    for (const stream of [false, true]) {
      await assert.rejects(
        client.chat.completions.create({ model: 'no-such-model', messages, max_tokens: 4, stream }),
        (err) => {
          assert.ok(err instanceof OpenAI.NotFoundError, `stream ${stream}: NotFoundError, got ${err?.constructor?.name}: ${err?.message}`);
          assert.equal(err.status, 404);
          assert.equal(err.code, 'model_not_found');
          assert.equal(typeof err.error?.message, 'string');
          return true;
        });
    }
  });

  for (const [what, body] of [
    ['messages not an array', { messages: 'hello' }],
    ['missing messages', { messages: undefined }],
    ['negative max_tokens', { max_tokens: -5 }],
    ['temperature as a string', { temperature: 'hot' }],
    ['message without role', { messages: [{ content: 'hi' }] }],
    ['n = 0', { n: 0 }],
  ]) {
    test(`bad request (${what}): BadRequestError 400 with a message`, T, async () => {
      await assert.rejects(
        client.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 4, ...body }),
        (err) => {
          assert.ok(err instanceof OpenAI.BadRequestError, `BadRequestError, got ${err?.constructor?.name}: ${err?.message}`);
          assert.equal(err.status, 400);
          assert.equal(err.type, 'invalid_request_error');
          assert.equal(typeof err.error?.message, 'string');
          assert.ok(err.error.message.length > 0);
          return true;
        });
    });
  }

  test('prompt longer than the context: 400 context_length_exceeded stating both numbers', T, async () => {
    await assert.rejects(
      client.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: overlongPrompt() }], max_tokens: 4 }),
      (err) => {
        assert.ok(err instanceof OpenAI.BadRequestError, `BadRequestError, got ${err?.constructor?.name}: ${err?.message}`);
        assert.equal(err.status, 400);
        assert.equal(err.code, 'context_length_exceeded');
        assertNumbers(err.error.message);
        return true;
      });
    // The same through raw HTTP: the full error object.
    const r = await postJSON(server.baseURL, '/v1/chat/completions',
      { model: MODEL_ID, messages: [{ role: 'user', content: overlongPrompt() }], max_tokens: 4 });
    assert.equal(r.status, 400);
    assertOpenAIError(assert, r.json, { type: 'invalid_request_error', code: 'context_length_exceeded' });
  });

  function assertNumbers(message) {
    const nums = (message.match(/\d+/g) ?? []).map(Number);
    assert.ok(nums.length >= 2, `message states the context size and the prompt length: ${message}`);
    assert.ok(nums.includes(CTX) || Math.max(...nums) > Math.min(...nums), `two different numbers: ${message}`);
    assert.ok(Math.max(...nums) > CTX, `the prompt length (> ${CTX}) is stated: ${message}`);
  }
});
