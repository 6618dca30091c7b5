// `genstack gateway` in front of https upstreams: the certificate checked
// against a CA file (here the upstream's own self-signed one), an upstream the
// gateway cannot verify refused, `tls_verify: false` as the explicit way out;
// answers and streams over TLS, health checks over TLS, pooled TLS connections.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postJSON } from './harness.mjs';
import {
  createKey, fakeCompletion, makeWorkDir, selfSignedCert, startFakeUpstream, startGateway, writeConfig,
} from './gateway_harness.mjs';

const chat = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('genstack gateway with https upstreams', () => {
  let work, gateway, key, upstream;
  const seen = { requests: 0, connections: new Set() };

  before(async () => {
    work = makeWorkDir();
    const cert = selfSignedCert(work.dir);
    upstream = await startFakeUpstream((req, res, body) => {
      seen.requests++;
      seen.connections.add(`${req.socket.remotePort}`);
      const request = JSON.parse(body);
      if (request.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"choices":[{"index":0,"delta":{"content":"over"}}]}\n\n');
        res.write('data: {"choices":[{"index":0,"delta":{"content":" tls"}}]}\n\n');
        res.end('data: [DONE]\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(fakeCompletion(request.model)));
    }, { tls: { key: cert.key, cert: cert.cert } });
    const config = {
      listen: '127.0.0.1:0',
      upstreams: [
        { name: 'trusted', url: upstream.url, ca_file: cert.certFile },
        { name: 'untrusted', url: upstream.url },  // the system's CAs do not know the test's certificate
        { name: 'unverified', url: upstream.url, tls_verify: false },
      ],
      routes: [
        { model: 'trusted', pool: ['trusted'] },
        { model: 'untrusted', pool: ['untrusted'] },
        { model: 'unverified', pool: ['unverified'] },
      ],
      tiers: { pro: {} },
      keys: { db: work.db },
      health: { interval_s: 0.5, timeout_s: 1 },
    };
    gateway = await startGateway(writeConfig(work.dir, config));
    key = createKey(work.db, 'pro');
  });

  after(async () => {
    await gateway?.stop();
    await upstream?.close();
    work?.remove();
  });

  const post = (body) =>
    postJSON(gateway.baseURL, '/v1/chat/completions', body, { headers: { authorization: `Bearer ${key.secret}` } });

  test('answers and streams come over a verified TLS connection, reused between requests', async () => {
    const before = seen.connections.size;
    for (let i = 0; i < 3; i++) {
      const r = await post(chat('trusted'));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('x-genstack-upstream'), 'trusted');
      assert.equal(r.json.choices[0].message.content, 'hello');
    }
    assert.ok(seen.connections.size - before <= 1, 'one pooled TLS connection serves the three requests');
    const streamed = await post(chat('trusted', { stream: true }));
    assert.equal(streamed.status, 200, streamed.text);
    assert.match(streamed.text, /"over"[\s\S]*" tls"[\s\S]*\[DONE\]/);
  });

  test('an upstream whose certificate cannot be verified gets no request', async () => {
    const before = seen.requests;
    const r = await post(chat('untrusted'));
    assert.equal(r.status, 503, r.text);
    assert.equal(seen.requests, before, 'nothing was sent over an unverified connection');
  });

  test('tls_verify: false talks to it anyway', async () => {
    const r = await post(chat('unverified'));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-genstack-upstream'), 'unverified');
  });
});

describe('genstack gateway https upstream configuration', () => {
  test('a missing CA file and TLS options on an http upstream are config errors', async () => {
    const work = makeWorkDir();
    try {
      const base = { listen: '127.0.0.1:0', routes: [{ model: 'm', pool: ['u'] }], tiers: { pro: {} }, keys: { db: work.db } };
      for (const [upstream, message] of [
        [{ name: 'u', url: 'https://127.0.0.1:1', ca_file: `${work.dir}/missing.pem` }, /ca_file: .*is not a file/],
        [{ name: 'u', url: 'http://127.0.0.1:1', tls_verify: false }, /are for https:\/\/ upstreams/],
      ]) {
        const file = writeConfig(work.dir, { ...base, upstreams: [upstream] });
        await assert.rejects(startGateway(file, { waitHealth: false }), message);
      }
    } finally {
      work.remove();
    }
  });
});
