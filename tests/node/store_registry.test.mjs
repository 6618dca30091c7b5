// The model store against a real registry (Debian's docker-registry, CNCF
// distribution 2.8) through the genstack CLI: package, push, rm, pull, run
// with identical greedy output; tag and pull by digest; pushes that upload
// no blob twice; skopeo interop in both directions.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  MEDIA, MODEL_PATH, PROMPT, RUN_FLAGS, cleanup, genstackOk, lastLine, listedTags, makeHome, missingTools,
  modelSpecArtifact, mounts, pushBlob, pushManifest, sha256, skopeo, startProxy, startRegistry, storeBlobs, tempDir,
  uploadData, uploadStarts, writeOciLayout,
} from './store_harness.mjs';

const skip = missingTools({ skopeo: true }) ?? false;

describe('model store and a registry', { skip, timeout: 600_000 }, () => {
  let registry;
  let proxy; // in front of the registry: counts requests
  let expected; // greedy output of the GGUF file itself
  let ref;
  let pushed; // manifest digest of ref
  let inspected; // `genstack inspect ref` of the packaging home

  before(async () => {
    registry = await startRegistry();
    proxy = await startProxy(registry.port);
    ref = `localhost:${proxy.port}/test/stories:v1`;
    const scratch = makeHome();
    expected = await genstackOk(['run', MODEL_PATH, PROMPT, ...RUN_FLAGS], { home: scratch.home });
    assert.ok(expected.trim().length > 0, 'the model file itself generates text');
  });
  after(cleanup);

  test('package, push, rm, pull, run: the same greedy text as the GGUF file', async () => {
    const { home, license, template } = makeHome();
    const packaged = lastLine(await genstackOk(
      ['package', '--gguf', MODEL_PATH, '--license', license, '--chat-template', template, ref], { home }));
    assert.match(packaged, /^sha256:[0-9a-f]{64}$/, 'package prints the manifest digest');
    inspected = JSON.parse(await genstackOk(['inspect', ref], { home }));
    assert.equal(inspected.id, packaged);

    const before = proxy.log.length;
    pushed = lastLine(await genstackOk(['push', ref, '--insecure'], { home }));
    assert.equal(pushed, packaged, 'push prints the manifest digest');
    const uploads = uploadStarts(proxy.log.slice(before));
    assert.equal(uploads.length, 4, `one upload each for config, GGUF, licence, template: ${JSON.stringify(uploads)}`);

    await genstackOk(['rm', ref], { home });
    assert.ok(!(await listedTags(home)).some((t) => t.includes('test/stories')), 'rm removed the tag');
    assert.deepEqual(storeBlobs(home).complete, [], 'rm of the only model leaves no blob behind');

    const pulled = lastLine(await genstackOk(['pull', ref, '--insecure'], { home }));
    assert.equal(pulled, pushed, 'pull prints the manifest digest');
    assert.ok((await listedTags(home)).some((t) => t.includes('test/stories:v1')), 'ls lists the pulled model');
    const again = JSON.parse(await genstackOk(['inspect', ref], { home }));
    assert.equal(again.id, pushed);
    assert.deepEqual(again.manifest, inspected.manifest);
    assert.deepEqual(readFileSync(again.gguf), readFileSync(MODEL_PATH), 'the stored GGUF blob is the file');

    const text = await genstackOk(['run', ref, PROMPT, ...RUN_FLAGS], { home });
    assert.equal(text, expected, 'same greedy output from the pulled model');
  });

  test('a second push of the same model uploads no blob', async () => {
    assert.ok(pushed, 'needs the round trip');
    const { home, license, template } = makeHome();
    await genstackOk(['package', '--gguf', MODEL_PATH, '--license', license, '--chat-template', template, ref], { home });
    const before = proxy.log.length;
    assert.equal(lastLine(await genstackOk(['push', ref, '--insecure'], { home })), pushed, 'same bytes, same digest');
    const log = proxy.log.slice(before);
    assert.deepEqual(uploadStarts(log), [], 'no upload started');
    assert.deepEqual(uploadData(log), [], 'no blob data sent');
  });

  test('tag, push to another repository (blobs mounted or found, not uploaded), pull by digest', async () => {
    assert.ok(pushed, 'needs the round trip');
    const { home } = makeHome();
    await genstackOk(['pull', ref, '--insecure'], { home });
    const copy = `localhost:${proxy.port}/team/copy:v2`;
    await genstackOk(['tag', ref, copy], { home });
    const tags = JSON.parse(await genstackOk(['inspect', copy], { home })).tags;
    assert.ok(tags.some((t) => t.includes('team/copy:v2')) && tags.some((t) => t.includes('test/stories:v1')),
      `inspect lists both tags: ${JSON.stringify(tags)}`);
    const before = proxy.log.length;
    assert.equal(lastLine(await genstackOk(['push', copy, '--insecure'], { home })), pushed);
    const log = proxy.log.slice(before);
    assert.deepEqual(uploadData(log).filter((e) => e.bytes > 0 || e.method === 'PATCH'), [],
      `no blob data uploaded again (mounts: ${mounts(log).length})`);

    const byDigest = `localhost:${proxy.port}/team/copy@${pushed}`;
    const fresh = makeHome();
    assert.equal(lastLine(await genstackOk(['pull', byDigest, '--insecure'], { home: fresh.home })), pushed);
    assert.equal(JSON.parse(await genstackOk(['inspect', byDigest], { home: fresh.home })).id, pushed);
    const text = await genstackOk(['run', byDigest, PROMPT, ...RUN_FLAGS], { home: fresh.home });
    assert.equal(text, expected, 'the model pulled by digest runs the same');
  });

  test('skopeo copies our artifact: model-spec media types, digests as genstack inspect says', async () => {
    assert.ok(pushed && inspected, 'needs the round trip');
    const dir = tempDir();
    const r = await skopeo(['copy', '--src-tls-verify=false', `docker://127.0.0.1:${proxy.port}/test/stories:v1`, `oci:${dir}:v1`]);
    assert.equal(r.code, 0, r.stderr);
    const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8'));
    assert.equal(index.manifests[0].digest, pushed, 'skopeo sees our manifest digest');
    const blob = (d) => readFileSync(path.join(dir, 'blobs', 'sha256', d.slice(7)));
    const raw = blob(pushed);
    assert.equal(sha256(raw), pushed);
    const manifest = JSON.parse(raw);
    assert.equal(manifest.schemaVersion, 2);
    assert.equal(manifest.config.mediaType, MEDIA.config);
    assert.deepEqual(manifest.layers.map((l) => l.mediaType).sort(), [MEDIA.gguf, MEDIA.license, MEDIA.template].sort());
    assert.deepEqual(manifest, inspected.manifest, 'the manifest genstack inspect shows');
    for (const d of [manifest.config, ...manifest.layers]) {
      const bytes = blob(d.digest);
      assert.equal(sha256(bytes), d.digest);
      assert.equal(bytes.length, d.size);
    }
    const gguf = manifest.layers.find((l) => l.mediaType === MEDIA.gguf);
    assert.deepEqual(blob(gguf.digest), readFileSync(MODEL_PATH));
    const config = JSON.parse(blob(manifest.config.digest));
    assert.equal(config.config?.format, 'gguf', `config.format: ${JSON.stringify(config)}`);
    assert.equal(typeof config.config?.size, 'string', 'config.size is a string of bytes (model-spec)');
    assert.deepEqual(config.files?.map((f) => f.diffID).sort(), manifest.layers.map((l) => l.digest).sort(),
      'config.files lists the layers\' digests');
    assert.deepEqual(config, inspected.config, 'the config genstack inspect shows');
  });

  test('an artifact skopeo pushed in Docker model-spec format is pulled and run', async () => {
    const art = modelSpecArtifact([
      { mediaType: MEDIA.gguf, bytes: readFileSync(MODEL_PATH) },
      { mediaType: MEDIA.license, bytes: Buffer.from('Apache-2.0\n') },
    ]);
    const dir = tempDir();
    const digest = writeOciLayout(dir, 'tag1', art);
    const r = await skopeo(['copy', '--dest-tls-verify=false', `oci:${dir}:tag1`, `docker://${registry.host}/other/model:tag1`]);
    assert.equal(r.code, 0, r.stderr);
    const { home } = makeHome();
    const theirs = `localhost:${registry.port}/other/model:tag1`;
    assert.equal(lastLine(await genstackOk(['pull', theirs, '--insecure'], { home })), digest);
    const info = JSON.parse(await genstackOk(['inspect', theirs], { home }));
    assert.equal(info.id, digest);
    assert.equal(info.config?.config?.gguf?.architecture, 'llama', 'the config as skopeo pushed it');
    const text = await genstackOk(['run', theirs, PROMPT, ...RUN_FLAGS], { home });
    assert.equal(text, expected);
  });

  test('other manifest flavours: Docker schema 2 media type, CNCF ModelPack artifact', async () => {
    const gguf = readFileSync(MODEL_PATH);
    const docker = modelSpecArtifact([{ mediaType: MEDIA.gguf, bytes: gguf }]);
    for (const bytes of docker.blobs.values()) await pushBlob(registry.url, 'flavour/docker', bytes);
    const dockerType = 'application/vnd.docker.distribution.manifest.v2+json';
    const dockerDigest = await pushManifest(registry.url, 'flavour/docker', 'v1', { ...docker.manifest, mediaType: dockerType }, dockerType);

    const config = Buffer.from(JSON.stringify({
      descriptor: { name: 'stories', family: 'llama', createdAt: '2025-01-01T00:00:00Z' },
      config: { architecture: 'transformer', format: 'gguf', paramSize: '292.80K', precision: 'F32' },
      modelfs: { type: 'layers', diffIds: [sha256(gguf)] },
    }));
    const weights = await pushBlob(registry.url, 'flavour/modelpack', gguf);
    const cfg = await pushBlob(registry.url, 'flavour/modelpack', config);
    const packDigest = await pushManifest(registry.url, 'flavour/modelpack', 'v1', {
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      artifactType: 'application/vnd.cncf.model.manifest.v1+json',
      config: { mediaType: 'application/vnd.cncf.model.config.v1+json', ...cfg },
      layers: [{ mediaType: 'application/vnd.cncf.model.weight.v1.gguf', ...weights }],
    });
    for (const [name, digest] of [['flavour/docker', dockerDigest], ['flavour/modelpack', packDigest]]) {
      const { home } = makeHome();
      const theirs = `localhost:${registry.port}/${name}:v1`;
      assert.equal(lastLine(await genstackOk(['pull', theirs, '--insecure'], { home })), digest, name);
      assert.equal(await genstackOk(['run', theirs, PROMPT, ...RUN_FLAGS], { home }), expected, name);
    }
  });
});
