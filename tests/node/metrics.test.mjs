// GET /metrics: Prometheus text format with genstack's request counter and
// time-to-first-token histogram; `promtool check metrics` must accept it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startServer, postJSON, getURL, sseEvents, MODEL_ID, REQUEST_TIMEOUT_MS } from './harness.mjs';

const T = { timeout: REQUEST_TIMEOUT_MS * 2 };

// Sum of the samples of one metric name (all label sets).
function sum(text, name) {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) { total += Number(m[3]); found = true; }
  }
  return found ? total : undefined;
}

describe('metrics', () => {
  let server;
  before(async () => { server = await startServer({ args: ['--parallel', '2', '--ctx', '1024'] }); });
  after(async () => { await server?.stop(); });

  test('after some requests /metrics has the request counter and TTFT histogram', T, async () => {
    const before = await getURL(server.baseURL, '/metrics');
    assert.equal(before.status, 200);
    const n0 = sum(before.text, 'genstack_requests_total') ?? 0;

    const body = { model: MODEL_ID, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8, temperature: 0 };
    for (let i = 0; i < 3; i++) assert.equal((await postJSON(server.baseURL, '/v1/chat/completions', body)).status, 200);
    const r = await fetch(`${server.baseURL}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, stream: true }), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    for await (const ev of sseEvents(r.body)) void ev;
    assert.equal((await postJSON(server.baseURL, '/v1/completions', { model: MODEL_ID, prompt: 'Hi', max_tokens: 4 })).status, 200);
    assert.equal((await postJSON(server.baseURL, '/v1/chat/completions', { ...body, model: 'nope' })).status, 404);

    const m = await getURL(server.baseURL, '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /^text\/plain/, 'Prometheus text exposition format');
    const text = m.text;
    assert.match(text, /^# TYPE genstack_requests_total counter$/m);
    assert.match(text, /^# HELP genstack_requests_total /m);
    assert.ok(sum(text, 'genstack_requests_total') - n0 >= 5, 'the 5 successful requests are counted');
    assert.match(text, /^# TYPE genstack_time_to_first_token_seconds histogram$/m);
    assert.match(text, /^genstack_time_to_first_token_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} /m);
    const count = sum(text, 'genstack_time_to_first_token_seconds_count');
    assert.ok(count >= 5, `TTFT observed for each generation (count ${count})`);
    assert.ok(sum(text, 'genstack_time_to_first_token_seconds_sum') > 0);
    const inf = sum(text.split('\n').filter((l) => l.includes('le="+Inf"')).join('\n'), 'genstack_time_to_first_token_seconds_bucket');
    assert.equal(inf, count, 'the +Inf bucket equals _count');
    assert.ok(text.endsWith('\n'), 'ends with a newline');
  });

  test('promtool check metrics accepts the exposition', T, async () => {
    const m = await getURL(server.baseURL, '/metrics');
    const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
    assert.ok(!probe.error, 'promtool is not on PATH: install it with scripts/install.sh --deps-only '
      + '(Debian package prometheus; CI installs it)');
    const r = spawnSync('promtool', ['check', 'metrics'], { input: m.text, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `promtool check metrics failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  });
});
