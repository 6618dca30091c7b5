// The server's model store endpoints (Ollama API): POST /api/pull streams
// NDJSON progress and ends with success, the model then shows in /api/tags
// and answers /api/generate; DELETE /api/delete removes it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getURL, postJSON, startServer } from './harness.mjs';
import {
  cleanup, genstackOk, listedTags, makeHome, missingTools, publishStories, startRegistry, storeBlobs,
} from './store_harness.mjs';

const skip = missingTools() ?? false;

async function ndjson(response) {
  const text = await response.text();
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}

describe('server: /api/pull, /api/tags, /api/generate, /api/delete', { skip, timeout: 600_000 }, () => {
  let registry;
  let server;
  let home;
  let ref;
  let digest;

  before(async () => {
    registry = await startRegistry();
    ref = `localhost:${registry.port}/test/stories:v1`;
    ({ digest } = await publishStories(registry.url, 'test/stories', 'v1'));
    ({ home } = makeHome());
    server = await startServer({ args: ['--ctx', '512'], env: { GENSTACK_HOME: home, GENSTACK_RETRY_BASE_MS: '50' } });
  });
  after(async () => {
    await server?.stop();
    await cleanup();
  });

  const tagged = async () => (await getURL(server.baseURL, '/api/tags')).json.models
    .filter((m) => `${m.name} ${m.model}`.includes('test/stories'));

  test('POST /api/pull streams NDJSON progress and ends with success', async () => {
    const r = await fetch(`${server.baseURL}/api/pull`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: ref, insecure: true, stream: true }),
      signal: AbortSignal.timeout(120_000),
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /ndjson|json/);
    const events = await ndjson(r);
    assert.deepEqual(events.filter((e) => e.error), [], 'no error events');
    assert.equal(events[0].status, 'pulling manifest', `first event: ${JSON.stringify(events[0])}`);
    assert.deepEqual(events.at(-1), { status: 'success' }, 'the last event is success');
    const progress = events.filter((e) => e.status?.startsWith('pulling sha256:'));
    assert.ok(progress.length >= 1, `per-blob progress events: ${JSON.stringify(events)}`);
    for (const e of progress) {
      assert.match(e.digest, /^sha256:[0-9a-f]{64}$/);
      assert.ok(Number.isInteger(e.total) && e.total > 0, `total: ${JSON.stringify(e)}`);
      if (e.completed !== undefined) assert.ok(e.completed >= 0 && e.completed <= e.total, `completed: ${JSON.stringify(e)}`);
    }
    assert.ok(events.some((e) => e.status === 'verifying sha256 digest'), 'a verifying event');
    assert.ok((await listedTags(home)).some((t) => t.includes('test/stories:v1')), 'in the store (genstack ls)');
  });

  test('the pulled model shows in /api/tags and answers /api/generate', async () => {
    const models = await tagged();
    assert.equal(models.length, 1, `one store model in /api/tags: ${JSON.stringify(models)}`);
    assert.equal(models[0].digest?.replace(/^sha256:/, ''), digest.slice(7), 'its digest is the manifest digest');
    assert.ok(models[0].size > 0);
    const r = await postJSON(server.baseURL, '/api/generate', {
      model: models[0].name, prompt: 'Once upon a time', stream: false, options: { temperature: 0, num_predict: 16 },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(typeof r.json.response, 'string');
    assert.ok(r.json.response.length > 0, 'generates text');
    assert.equal(r.json.done, true);
  });

  test('genstack serve REF serves a stored model', async () => {
    const stored = await startServer({ models: [ref], args: ['--ctx', '512'], env: { GENSTACK_HOME: home } });
    try {
      const ids = (await getURL(stored.baseURL, '/v1/models')).json.data.map((m) => m.id);
      assert.equal(ids.length, 1, `one model: ${ids}`);
      const r = await postJSON(stored.baseURL, '/api/generate', {
        model: ids[0], prompt: 'Once upon a time', stream: false, options: { temperature: 0, num_predict: 16 },
      });
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json.response.length > 0);
    } finally {
      await stored.stop();
    }
  });

  test('a failing pull streams an error', async () => {
    const r = await fetch(`${server.baseURL}/api/pull`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: `localhost:${registry.port}/test/none:v9`, insecure: true }),
      signal: AbortSignal.timeout(120_000),
    });
    const body = await r.text();
    const last = JSON.parse(body.trim().split('\n').pop());
    assert.ok(r.status >= 400 || last.error, `an error status or an error event: ${r.status} ${body}`);
    assert.equal(typeof last.error, 'string', `the error is a string: ${body}`);
    assert.doesNotMatch(last.error, /no route/i, 'the route exists');
    assert.match(last.error, /test\/none|v9|manifest|not found|unknown/i, `the error is about the model: ${last.error}`);
    assert.ok(!body.includes('"success"'));
  });

  test('POST /api/pull with stream:false answers one object', async () => {
    const r = await postJSON(server.baseURL, '/api/pull', { model: ref, insecure: true, stream: false });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { status: 'success' });
  });

  test('DELETE /api/delete removes the model', async () => {
    const name = (await tagged())[0]?.name;
    assert.ok(name, 'the model is there to delete');
    const r = await fetch(`${server.baseURL}/api/delete`, {
      method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: name }),
    });
    assert.equal(r.status, 200, await r.text());
    assert.deepEqual(await tagged(), [], 'gone from /api/tags');
    assert.ok(!(await listedTags(home)).some((t) => t.includes('test/stories')), 'gone from genstack ls');
    assert.deepEqual(storeBlobs(home).complete, [], 'its blobs are gone');
    const again = await fetch(`${server.baseURL}/api/delete`, {
      method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: name }),
    });
    assert.equal(again.status, 404, 'deleting it again: 404 like Ollama');
    await genstackOk(['ls'], { home });
  });
});
