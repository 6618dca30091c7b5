// Bad references and malicious manifests: clear one-line errors, exit 1,
// nothing stored.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  MEDIA, assertCliError, badBlobs, cleanup, genstack, listedTags, makeHome, missingTools, pushBlob, pushManifest,
  sha256, startProxy, startRegistry, storeBlobs,
} from './store_harness.mjs';

const skip = missingTools() ?? false;
const BOUND_MS = 120_000;

describe('bad references', { skip, timeout: 300_000 }, () => {
  after(cleanup);
  const bad = {
    'a relative path': '../x',
    'two colons': 'a:b:c',
    'an empty reference': '',
    'a 300-character name': `localhost:5000/${'a'.repeat(300)}:v1`,
    'an uppercase repository': 'Upper/Case',
    'a bad digest': 'ai/smollm2@sha256:1234',
    'a path in the tag': 'ai/smollm2:../../etc',
  };
  for (const [what, ref] of Object.entries(bad)) {
    test(`pull of ${what} (${JSON.stringify(ref.length > 40 ? `${ref.slice(0, 40)}...` : ref)}) is a one-line error`, async () => {
      const { home } = makeHome();
      // No GENSTACK_REGISTRY_MIRROR: a reference that slipped through would try the network and hang or fail late.
      const r = await genstack(['pull', ref], { home, timeout: BOUND_MS, env: { GENSTACK_REGISTRY_MIRROR: 'http://127.0.0.1:9' } });
      const line = assertCliError(assert, r, what);
      assert.match(line, /reference|name|tag|digest|invalid|repository/i, `the error is about the reference: ${line}`);
      assert.deepEqual(storeBlobs(home).complete, []);
    });
  }
  test('rm, tag and inspect refuse a bad reference too', async () => {
    const { home } = makeHome();
    for (const args of [['rm', '../x'], ['tag', 'a:b:c', 'x/y:z'], ['inspect', 'Upper/Case']]) {
      assertCliError(assert, await genstack(args, { home, timeout: BOUND_MS }), args.join(' '));
    }
  });
});

describe('malicious manifests', { skip, timeout: 300_000 }, () => {
  let registry;
  let proxy;
  let config;
  let layer;
  before(async () => {
    registry = await startRegistry();
    proxy = await startProxy(registry.port);
    config = await pushBlob(registry.url, 'bad/m', Buffer.from(JSON.stringify({
      config: { format: 'gguf', size: '3' }, files: [{ diffID: sha256('abc'), type: MEDIA.gguf }],
    })));
    layer = await pushBlob(registry.url, 'bad/m', Buffer.from('abc'));
  });
  after(cleanup);

  const manifestWith = (layers, configType = MEDIA.config) => ({
    schemaVersion: 2, mediaType: MEDIA.manifest, config: { mediaType: configType, ...config }, layers,
  });

  async function assertRefused(tag, what, pattern) {
    const { home } = makeHome();
    const r = await genstack(['pull', `localhost:${proxy.port}/bad/m:${tag}`, '--insecure'], { home, timeout: BOUND_MS });
    const line = assertCliError(assert, r, what);
    if (pattern) assert.match(line, pattern, `${what}: ${line}`);
    assert.deepEqual(await listedTags(home), [], `${what}: nothing listed`);
    const blobs = storeBlobs(home);
    assert.ok(!blobs.complete.includes(layer.digest.slice(7)), `${what}: the layer did not enter the store`);
    assert.deepEqual(blobs.other, [], `${what}: no stray files`);
    assert.deepEqual(badBlobs(home), []);
  }

  test('a layer of a petabyte is refused before any download', async () => {
    await pushManifest(registry.url, 'bad/m', 'huge', manifestWith([{ mediaType: MEDIA.gguf, digest: layer.digest, size: 2 ** 50 }]));
    const start = proxy.log.length;
    await assertRefused('huge', 'huge size', /size|large|big|exceed|limit/i);
    assert.ok(!proxy.log.slice(start).some((e) => e.url.includes(layer.digest)), 'the layer was not requested');
  });

  test('a layer whose size is wrong (smaller than the blob) is refused', async () => {
    await pushManifest(registry.url, 'bad/m', 'short', manifestWith([{ mediaType: MEDIA.gguf, digest: layer.digest, size: 2 }]));
    await assertRefused('short', 'wrong size');
  });

  test('an unknown layer media type is refused', async () => {
    await pushManifest(registry.url, 'bad/m', 'unknown',
      manifestWith([{ mediaType: 'application/vnd.evil.payload', digest: layer.digest, size: 3 }]));
    await assertRefused('unknown', 'unknown media type', /media ?type|unknown|unsupported|no gguf/i);
  });

  test('an unknown config media type is refused', async () => {
    await pushManifest(registry.url, 'bad/m', 'image',
      manifestWith([{ mediaType: MEDIA.gguf, ...layer }], 'application/vnd.oci.image.config.v1+json'));
    await assertRefused('image', 'unknown config media type', /media ?type|config|unknown|unsupported|not a model/i);
  });

  test('a GGUF layer that is not a GGUF file is refused (structural checks before the model is usable)', async () => {
    await pushManifest(registry.url, 'bad/m', 'notgguf', manifestWith([{ mediaType: MEDIA.gguf, ...layer }]));
    await assertRefused('notgguf', 'not a GGUF', /gguf|magic|structur|invalid|truncated/i);
  });

  // The registry itself refuses such manifests, so the proxy serves them.
  for (const [i, [what, digest]] of [
    ['a path-like digest', 'sha256:../../../../../../tmp/evil'],
    ['an absolute path digest', '/etc/passwd'],
    ['an uppercase digest', `sha256:${'AB'.repeat(32)}`],
    ['another algorithm', `md5:${'0'.repeat(32)}`],
  ].entries()) {
    test(`a manifest with ${what} is refused`, async () => {
      const raw = JSON.stringify(manifestWith([{ mediaType: MEDIA.gguf, digest, size: 3 }]));
      const tag = `served${i}`;
      proxy.rule = (req) => (req.url === `/v2/bad/m/manifests/${tag}` ? {
        status: 200,
        body: raw,
        headers: { 'content-type': MEDIA.manifest, 'docker-content-digest': sha256(raw), 'content-length': String(Buffer.byteLength(raw)) },
      } : undefined);
      try {
        await assertRefused(tag, what, /digest|invalid/i);
      } finally {
        proxy.rule = () => undefined;
      }
    });
  }

  test('a manifest that is not JSON, or far too large, is refused', async () => {
    for (const [tag, raw] of [['garbage', '{"schemaVersion": 2, "layers": ['], ['big', ' '.repeat(8 << 20)]]) {
      proxy.rule = (req) => (req.url === `/v2/bad/m/manifests/${tag}` ? {
        status: 200, body: raw, headers: { 'content-type': MEDIA.manifest, 'docker-content-digest': sha256(raw) },
      } : undefined);
      try {
        await assertRefused(tag, tag);
      } finally {
        proxy.rule = () => undefined;
      }
    }
  });
});
