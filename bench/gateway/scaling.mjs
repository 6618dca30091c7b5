// Scaling bench for `genstack up` (not a test): starts `genstack up` on
// stories260K, ramps concurrent clients up and down, and prints one line a
// second: time, clients, replicas, queue depth per replica, p99 latency of
// the requests that finished in that second.
//
//   node bench/gateway/scaling.mjs [--binary build/src/genstack] [--model PATH]
//        [--ramp 1,4,8,12,12,8,4,1,0,0] [--step-s 10] [--max-tokens 128]
//        [--max 3] [--target-queue 2] [--cooldown-s 5]
//
// Plain fetch only: no npm packages needed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: opt } = parseArgs({
  options: {
    binary: { type: 'string', default: path.join(root, 'build/src/genstack') },
    model: { type: 'string', default: path.resolve(root, '../shared/models/stories260K.gguf') },
    ramp: { type: 'string', default: '1,4,8,12,12,8,4,1,0,0' },
    'step-s': { type: 'string', default: '10' },
    'max-tokens': { type: 'string', default: '128' },
    max: { type: 'string', default: '3' },
    'target-queue': { type: 'string', default: '2' },
    'cooldown-s': { type: 'string', default: '5' },
    parallel: { type: 'string', default: '1' },
  },
});
const ramp = opt.ramp.split(',').map(Number);
const stepMs = Number(opt['step-s']) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const work = mkdtempSync(path.join(os.tmpdir(), 'gs-scaling-'));
const db = path.join(work, 'gateway.db');
const stackFile = path.join(work, 'stack.yaml');
writeFileSync(stackFile, JSON.stringify({
  listen: '127.0.0.1:0',
  tiers: { bench: { models: ['*'] } },
  keys: { db },
  models: [{
    name: 'stories260K', model: opt.model, serve_args: ['--parallel', opt.parallel],
    replicas: { min: 1, max: Number(opt.max), target_queue: Number(opt['target-queue']), cooldown_s: Number(opt['cooldown-s']) },
  }],
}));
const created = spawnSync(opt.binary, ['keys', '--db', db, 'create', '--tier', 'bench', '--name', 'bench'], { encoding: 'utf8' });
if (created.status !== 0) throw new Error(created.stderr);
const secret = created.stdout.trim();

const up = spawn(opt.binary, ['up', stackFile], { stdio: ['ignore', 'pipe', 'pipe'] });
const decisions = [];
up.stderr.setEncoding('utf8');
up.stderr.on('data', (d) => {
  for (const line of String(d).split('\n')) if (/up: \S+ \d+ -> \d+ replicas/.test(line)) decisions.push(line.trim());
});
const stopUp = () => { try { up.kill('SIGTERM'); } catch { /* gone */ } };
process.on('SIGINT', () => { stopUp(); process.exit(130); });

const baseURL = await new Promise((resolve, reject) => {
  let buf = '';
  up.stdout.setEncoding('utf8');
  up.stdout.on('data', (d) => {
    buf += d;
    const m = /gateway listening on (http:\/\/\S+)/.exec(buf);
    if (m) resolve(m[1]);
  });
  up.on('exit', (code) => reject(new Error(`genstack up exited (${code})`)));
});

async function gauges() {
  try {
    const text = await (await fetch(`${baseURL}/metrics`)).text();
    const read = (name) => Number((new RegExp(`^${name}\\{model="stories260K"\\} (\\S+)`, 'm').exec(text) ?? [])[1] ?? NaN);
    return { replicas: read('genstack_up_replicas'), queue: read('genstack_up_queue_depth') };
  } catch {
    return { replicas: NaN, queue: NaN };
  }
}
while (!((await gauges()).replicas >= 1)) await sleep(200);

let wanted = 0;
let running = 0;
let latencies = [];  // of the requests that finished since the last report
let failures = 0;
const body = JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: Number(opt['max-tokens']) });
async function client(id) {
  running++;
  while (id < wanted) {
    const start = performance.now();
    try {
      const r = await fetch(`${baseURL}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` }, body,
      });
      await r.arrayBuffer();
      if (r.status !== 200) failures++;
    } catch {
      failures++;
    }
    latencies.push(performance.now() - start);
  }
  running--;
}
function setClients(n) {
  const before = wanted;
  wanted = n;  // first: a new client checks it before its first request
  for (let id = before; id < n; id++) client(id);
}
const p99 = (xs) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]);

console.log('time_s clients replicas queue p99_ms done failures');
const t0 = performance.now();
for (const [step, clients] of ramp.entries()) {
  setClients(clients);
  while (performance.now() - t0 < (step + 1) * stepMs) {
    await sleep(1000);
    const g = await gauges();
    const done = latencies;
    latencies = [];
    const t = ((performance.now() - t0) / 1000).toFixed(0);
    console.log(`${t.padStart(6)} ${String(running).padStart(7)} ${String(g.replicas).padStart(8)} ${g.queue.toFixed(1).padStart(5)} ${p99(done).toFixed(0).padStart(6)} ${String(done.length).padStart(4)} ${failures}`);
  }
}
setClients(0);
console.log('\nscaling decisions:');
for (const d of decisions) console.log(`  ${d}`);
stopUp();
await new Promise((r) => up.on('exit', r));
rmSync(work, { recursive: true, force: true });
