// Continuous batching must not change results: 16 greedy requests sent at
// once return exactly the text each returns when sent alone.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, openaiClient, MODEL_ID, REQUEST_TIMEOUT_MS } from './harness.mjs';

const SUBJECTS = [
  'a cat', 'a dog', 'a red ball', 'the sun', 'a little boy', 'a big tree', 'a fish', 'a bird',
  'a girl named Lily', 'a truck', 'a cake', 'the moon', 'a frog', 'a boat', 'a kind bear', 'a toy car',
];

describe('batching', () => {
  let server;
  let client;
  before(async () => {
    server = await startServer({ args: ['--parallel', '16', '--ctx', '2048'] });
    client = openaiClient(server.baseURL);
  });
  after(async () => { await server?.stop(); });

  const ask = (i) => client.chat.completions.create({
    model: MODEL_ID,
    messages: [{ role: 'user', content: `Tell me a story about ${SUBJECTS[i]}.` }],
    max_tokens: 48,
    temperature: 0,
    ignore_eos: true,
  });

  test('16 concurrent greedy requests equal their sequential results', { timeout: REQUEST_TIMEOUT_MS * 4 }, async () => {
    assert.equal(new Set(SUBJECTS).size, 16);
    const alone = [];
    for (let i = 0; i < 16; i++) alone.push(await ask(i));
    for (const r of alone) {
      assert.equal(r.usage.completion_tokens, 48);
      assert.equal(r.choices[0].finish_reason, 'length');
    }
    assert.ok(new Set(alone.map((r) => r.choices[0].message.content)).size > 1, 'different prompts, different texts');

    const together = await Promise.all(SUBJECTS.map((_, i) => ask(i)));
    for (let i = 0; i < 16; i++) {
      assert.equal(together[i].usage.completion_tokens, 48, `request ${i}`);
      assert.equal(together[i].usage.prompt_tokens, alone[i].usage.prompt_tokens, `request ${i}`);
      assert.equal(together[i].choices[0].message.content, alone[i].choices[0].message.content,
        `request ${i} (${SUBJECTS[i]}): batched text differs from the text generated alone`);
    }
  });

  test('streamed and non-streamed requests mixed in one batch agree too', { timeout: REQUEST_TIMEOUT_MS * 4 }, async () => {
    const ref = await Promise.all([0, 1, 2, 3].map((i) => ask(i)));
    const streamed = await Promise.all([0, 1, 2, 3].map(async (i) => {
      const stream = await client.chat.completions.create({
        model: MODEL_ID,
        messages: [{ role: 'user', content: `Tell me a story about ${SUBJECTS[i]}.` }],
        max_tokens: 48, temperature: 0, ignore_eos: true, stream: true,
      });
      let text = '';
      for await (const ch of stream) text += ch.choices[0]?.delta?.content ?? '';
      return text;
    }).concat([4, 5, 6, 7].map((i) => ask(i).then((r) => r.choices[0].message.content))));
    for (let i = 0; i < 4; i++) assert.equal(streamed[i], ref[i].choices[0].message.content, `streamed request ${i}`);
  });
});
