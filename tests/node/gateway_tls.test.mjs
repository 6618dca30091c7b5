// `genstack gateway` with a `tls:` block: the official openai SDK over https
// (streaming and not) trusting a self-signed test certificate, a plain-HTTP
// client on the TLS port, and config errors for missing or mismatched files.
// The SDK runs in a child node with NODE_EXTRA_CA_CERTS, the way a user would
// trust a private CA (openai 6 uses fetch, which takes no agent here).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BINARY } from './harness.mjs';
import {
  createKey, fakeCompletion, makeWorkDir, selfSignedCert, startFakeUpstream, startGateway, writeConfig,
} from './gateway_harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

// The certificate and key files (the harness's self-signed pair for 127.0.0.1).
function makeCert(dir, name) {
  const made = selfSignedCert(dir, name);
  return { key: made.keyFile, cert: made.certFile };
}

// Runs `script` (an async function body with `OpenAI` in scope) in a child node trusting `ca`;
// resolves to what it prints as JSON. Asynchronous: the fake upstream lives in this process.
function runSdk(ca, script) {
  const source = `import OpenAI from 'openai';\nconst out = await (async () => {${script}})();\nconsole.log(JSON.stringify(out));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    cwd: HERE, env: { ...process.env, NODE_EXTRA_CA_CERTS: ca }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve, reject) => child.on('exit', (code, signal) => {
    clearTimeout(timer);
    if (code !== 0) reject(new Error(`sdk child failed (${code}/${signal}): ${stderr}`));
    else resolve(JSON.parse(stdout.trim().split('\n').pop()));
  }));
}

describe('genstack gateway over TLS', { skip: !hasOpenssl && 'no openssl tool' }, () => {
  let work, gateway, key, upstream, tls;

  before(async () => {
    work = makeWorkDir();
    tls = makeCert(work.dir, 'server');
    upstream = await startFakeUpstream((req, res, body) => {
      const request = JSON.parse(body);
      if (!request.stream) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(fakeCompletion(request.model, 'secure')));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const piece of ['se', 'cu', 're']) {
        res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: request.model,
          choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })}\n\n`);
      }
      res.end('data: [DONE]\n\n');
    });
    const config = {
      listen: '127.0.0.1:0',
      tls: { cert: tls.cert, key: tls.key },
      upstreams: [{ name: 'u', url: upstream.url }],
      routes: [{ model: 'tiny', pool: ['u'] }],
      tiers: { pro: {} },
      keys: { db: work.db },
    };
    gateway = await startGateway(writeConfig(work.dir, config), { waitHealth: false });
    key = createKey(work.db, 'pro');
  });

  after(async () => {
    if (gateway) await gateway.stop();
    if (upstream) await upstream.close();
    work?.remove();
  });

  test('the start-up line says https', () => {
    assert.match(gateway.baseURL, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test('the openai SDK gets a completion and a stream over https', async () => {
    const out = await runSdk(tls.cert, `
      const client = new OpenAI({ baseURL: ${JSON.stringify(`${gateway.baseURL}/v1`)}, apiKey: ${JSON.stringify(key.secret)}, maxRetries: 0 });
      const messages = [{ role: 'user', content: 'hi' }];
      const plain = await client.chat.completions.create({ model: 'tiny', messages });
      let streamed = '';
      for await (const chunk of await client.chat.completions.create({ model: 'tiny', messages, stream: true })) {
        streamed += chunk.choices[0]?.delta?.content ?? '';
      }
      const models = await client.models.list();
      return { plain: plain.choices[0].message.content, streamed, models: models.data.map((m) => m.id) };`);
    assert.equal(out.plain, 'secure');
    assert.equal(out.streamed, 'secure');
    assert.ok(out.models.includes('tiny'), JSON.stringify(out.models));
  });

  test('a client that does not trust the certificate fails, the gateway keeps serving', async () => {
    const url = gateway.baseURL;
    await assert.rejects(fetch(`${url}/health`));  // this process does not trust the test CA
    const plain = url.replace('https://', 'http://');
    await assert.rejects(fetch(`${plain}/health`, { signal: AbortSignal.timeout(30_000) }));
    const out = await runSdk(tls.cert, `const r = await fetch(${JSON.stringify(`${url}/health`)}); return { status: r.status };`);
    assert.equal(out.status, 200);
  });
});

describe('gateway tls config errors', { skip: !hasOpenssl && 'no openssl tool' }, () => {
  let work, tls, other;
  before(() => {
    work = makeWorkDir();
    tls = makeCert(work.dir, 'a');
    other = makeCert(work.dir, 'b');
  });
  after(() => work?.remove());

  const base = () => ({
    listen: '127.0.0.1:0', upstreams: [{ name: 'u', url: 'http://127.0.0.1:1' }], routes: [{ model: 'm', pool: ['u'] }],
    keys: { db: work.db },
  });
  const fails = (tlsBlock, pattern) => {
    const file = writeConfig(work.dir, { ...base(), tls: tlsBlock });
    const r = spawnSync(BINARY, ['gateway', '--config', file], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stderr, pattern);
  };

  test('a missing key file, a missing key entry, an unknown key, a mismatched pair', () => {
    fails({ cert: tls.cert, key: path.join(work.dir, 'nope.pem') }, /tls\.key: cannot read '.*nope\.pem'/);
    fails({ cert: tls.cert }, /tls\.key: missing/);
    fails({ cert: tls.cert, key: tls.key, ca: tls.cert }, /tls: unknown key 'ca'/);
    fails({ cert: tls.cert, key: other.key }, /does not match/);
  });
});
