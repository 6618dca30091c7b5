// The store tests' harness on its own (no genstack needed): docker-registry
// starts, answers and stops; skopeo copies an artifact built here into it;
// the proxy counts, cuts, corrupts and fails requests; the Hugging Face
// stand-in lists files and serves them with Range.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  MEDIA, MODEL_PATH, blobGets, cleanup, missingServers, modelSpecArtifact, pushBlob, skopeo,
  startHfStandIn, startProxy, startRegistry, tempDir, uploadStarts, writeOciLayout,
} from './store_harness.mjs';

const skip = missingServers({ skopeo: true }) ?? (existsSync(MODEL_PATH) ? false : `no test model at ${MODEL_PATH}`);

describe('store harness', { skip, timeout: 300_000 }, () => {
  after(cleanup);

  test('docker-registry starts on a free port, answers /v2/ and stops by PID', async () => {
    const reg = await startRegistry();
    const r = await fetch(`${reg.url}/v2/`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0');
    await reg.stop();
    assert.throws(() => process.kill(reg.pid, 0), 'the registry process is gone');
  });

  test('skopeo copies an OCI layout in model-spec format into the registry and back', async () => {
    const reg = await startRegistry();
    const proxy = await startProxy(reg.port);
    const art = modelSpecArtifact([
      { mediaType: MEDIA.gguf, bytes: readFileSync(MODEL_PATH) },
      { mediaType: MEDIA.license, bytes: Buffer.from('MIT\n') },
    ]);
    const src = tempDir();
    const digest = writeOciLayout(src, 'v1', art);
    const up = await skopeo(['copy', '--dest-tls-verify=false', `oci:${src}:v1`, `docker://${proxy.host}/other/model:v1`]);
    assert.equal(up.code, 0, up.stderr);
    assert.ok(uploadStarts(proxy.log).length >= 3, 'skopeo started an upload per blob');
    const m = await fetch(`${reg.url}/v2/other/model/manifests/v1`, { headers: { accept: MEDIA.manifest } });
    assert.equal(m.headers.get('docker-content-digest'), digest, 'the registry keeps our manifest bytes');
    const dst = tempDir();
    const down = await skopeo(['copy', '--src-tls-verify=false', `docker://${reg.host}/other/model:v1`, `oci:${dst}:v1`]);
    assert.equal(down.code, 0, down.stderr);
    const index = JSON.parse(readFileSync(path.join(dst, 'index.json'), 'utf8'));
    assert.equal(index.manifests[0].digest, digest);
  });

  test('the proxy cuts a blob after N bytes, flips a byte, answers 500', async () => {
    const reg = await startRegistry();
    const blob = Buffer.alloc(200_000, 7);
    const { digest } = await pushBlob(reg.url, 'p/q', blob);
    const proxy = await startProxy(reg.port);
    const blobUrl = `${proxy.url}/v2/p/q/blobs/${digest}`;

    proxy.rule = () => ({ cutAfter: 1000 });
    const cut = await fetch(blobUrl).then((r) => r.arrayBuffer()).then(() => 'complete', (e) => `cut: ${e.message}`);
    assert.match(cut, /^cut/);
    assert.equal(blobGets(proxy.log)[0].bytes, 1000);

    proxy.rule = () => ({ flipAt: 5 });
    const flipped = Buffer.from(await (await fetch(blobUrl)).arrayBuffer());
    assert.equal(flipped.length, blob.length);
    assert.equal(flipped[5], 7 ^ 0xff);

    proxy.rule = () => undefined;
    const ranged = await fetch(blobUrl, { headers: { range: 'bytes=1000-' } });
    assert.equal(ranged.status, 206, 'the registry honours Range');
    assert.equal((await ranged.arrayBuffer()).byteLength, blob.length - 1000);
    assert.equal(proxy.log.at(-1).range, 'bytes=1000-');

    proxy.rule = () => ({ status: 500 });
    const failed = await fetch(`${proxy.url}/v2/`);
    assert.equal(failed.status, 500);
  });

  test('the Hugging Face stand-in lists siblings and serves files with Range', async () => {
    const file = Buffer.from('GGUF'.repeat(1000));
    const hf = await startHfStandIn({ 'testorg/tiny-GGUF': { 'tiny-Q8_0.gguf': file, 'README.md': Buffer.from('hi') } });
    const info = await (await fetch(`${hf.url}/api/models/testorg/tiny-GGUF`)).json();
    assert.equal(info.id, 'testorg/tiny-GGUF');
    assert.deepEqual(info.siblings.map((s) => s.rfilename).sort(), ['README.md', 'tiny-Q8_0.gguf']);
    const r = await fetch(`${hf.url}/testorg/tiny-GGUF/resolve/main/tiny-Q8_0.gguf`, { headers: { range: 'bytes=10-19' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers.get('content-range'), `bytes 10-19/${file.length}`);
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), file.subarray(10, 20));
    hf.rule = () => ({ cutAfter: 100 });
    const cut = await fetch(`${hf.url}/testorg/tiny-GGUF/resolve/main/tiny-Q8_0.gguf`)
      .then((x) => x.arrayBuffer()).then(() => 'complete', () => 'cut');
    assert.equal(cut, 'cut');
    assert.equal((await fetch(`${hf.url}/api/models/testorg/none`)).status, 404);
  });
});
