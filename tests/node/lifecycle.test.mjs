// Start-up and shutdown: /health and /ready, and a graceful exit (code 0)
// on SIGTERM, also with a stream in flight.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, getURL, postJSON, MODEL_ID, BINARY, sleep } from './harness.mjs';
import { spawnSync } from 'node:child_process';

describe('lifecycle', () => {
  const started = [];
  after(async () => { for (const s of started) await s.stop(); });

  test('/health and /ready answer 200 with JSON', { timeout: 120_000 }, async () => {
    const s = await startServer({ args: ['--ctx', '512'] });
    started.push(s);
    const h = await getURL(s.baseURL, '/health');
    assert.equal(h.status, 200);
    assert.match(h.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(h.json?.status, 'ok', `/health body: ${h.text}`);
    const r = await getURL(s.baseURL, '/ready');
    assert.equal(r.status, 200);
    const stop = await s.stop();
    assert.equal(stop.killed, false, 'exited on SIGTERM without SIGKILL');
    assert.equal(stop.code, 0, `exit code 0 after SIGTERM (got code ${stop.code}, signal ${stop.signal})\n${s.logs()}`);
  });

  test('SIGTERM with a stream in flight: new requests get 503 (or no connection), exit 0 within 10 s', { timeout: 120_000 }, async () => {
    const s = await startServer({ args: ['--ctx', '2048', '--parallel', '2'] });
    started.push(s);
    const ac = new AbortController();
    const r = await fetch(`${s.baseURL}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL_ID, prompt: 'Once upon a time', max_tokens: 200, ignore_eos: true, stream: true }),
      signal: ac.signal,
    });
    assert.equal(r.status, 200);
    const reader = r.body.getReader();
    await reader.read();
    s.terminate();
    await sleep(50);
    if (!s.exited()) {
      try {
        const late = await postJSON(s.baseURL, '/v1/completions', { model: MODEL_ID, prompt: 'Hi', max_tokens: 2 }, { timeout: 10_000 });
        assert.equal(late.status, 503, `a request during shutdown: ${late.status} ${late.text.slice(0, 200)}`);
        assert.equal(typeof late.json?.error?.message, 'string', 'the 503 is an OpenAI error object');
      } catch (err) {
        // The listener is already closed: refused or reset is fine, a hang is not.
        assert.notEqual(err.name, 'TimeoutError', 'a request during shutdown must not hang');
      }
    }
    // Drain what the in-flight stream still sends (it may be cut short).
    const drain = (async () => { try { for (;;) { const { done } = await reader.read(); if (done) break; } } catch { /* cut */ } })();
    const res = await s.stop();
    ac.abort();
    await drain;
    assert.equal(res.killed, false, `exited within 10 s of SIGTERM\n${s.logs()}`);
    assert.equal(res.code, 0, `exit code 0 after SIGTERM (got code ${res.code}, signal ${res.signal})\n${s.logs()}`);
  });

  test('an unreadable model file fails start-up with an error, not a hang', { timeout: 60_000 }, async () => {
    const r = spawnSync(BINARY, ['serve', '/nonexistent/model.gguf', '--port', '0'], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(r.status, 0, 'non-zero exit');
    assert.equal(r.signal, null, 'exits by itself');
    assert.match(r.stderr, /genstack: error: /);
  });
});
