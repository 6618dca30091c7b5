// Builds the tokenizer parity corpus deterministically (seeded PRNG): one JSON
// object {"text": ...} per line, so cases may hold newlines and CRLF.
//
//   node build_corpus.mjs corpus > ../../tests/data/tokenizer/corpus.jsonl
//   node build_corpus.mjs bench 10000000 > /tmp/bench.txt   (raw text, for speed)
//
// Every text is passed through UTF-8 once, as a file would: lone surrogates
// become U+FFFD before anything tokenizes them.

const mode = process.argv[2] ?? "corpus";

function mulberry32(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
let rand = mulberry32(20240601);
const int = (n) => Math.floor(rand() * n);
const pick = (a) => a[int(a.length)];
const repeat = (n, f) => Array.from({ length: n }, f);

const ENGLISH = [
  "The quick brown fox jumps over the lazy dog.",
  "It's a truth universally acknowledged that we'll need more tests, isn't it?",
  "She said: \"I'd rather not,\" and they'd already LEFT — WE'RE sure THEY'LL return.",
  "In 1969, Apollo 11 landed on the Moon; 384,400 km away, 3.5 billion people watched.",
  "Don't panic. Ma'am, y'all can't be serious about rock 'n' roll o'clock.",
  "Hugging Face's tokenizers split text into pre-tokens before applying byte-pair merges.",
  "Mr. O'Neil (the CEO) e-mailed: \"Q3 revenue rose 12.5% YoY to $4,200,000.\"",
  "A naïve café owner in Zürich served crème brûlée to a façade-loving fiancée.",
  "Well... that was unexpected!!! Or was it??? I'M NOT SURE ANYMORE.",
  "Once upon a time, there was a little girl named Lily who loved to read.",
  "The mitochondria is the powerhouse of the cell, or so they say in biology class.",
  "Dear Sir/Madam, please find attached the invoice #A-1234/2024 dated 03/04/2024.",
  "He'S GOING, she'D GONE, they'VE been, we'LL see; 'tis the season, 'twas the night.",
  "Email me at jane.doe+test@example.com or visit https://example.org/path?q=1&r=2#frag.",
  "Tokenization edge cases: '' ' 's 'S 'x 're're 'LLama O'Reilly rock'n'roll",
];
const CHINESE = [
  "我们在这里测试分词器的一致性，确保每一个标记都完全相同。",
  "今天天气很好，我们去公园散步吧！你觉得怎么样？",
  "人工智能正在改变世界，大型语言模型可以写诗、写代码、回答问题。",
  "《红楼梦》是中国古典四大名著之一，作者是曹雪芹。",
  "北京时间2024年3月15日，价格上涨了12.5%，约合人民币3,000元。",
  "繁體中文：這是一個測試句子，包含標點符號「引號」與『書名號』。",
];
const JAPANESE = [
  "東京は日本の首都です。今日はいい天気ですね！",
  "ひらがなとカタカナと漢字が混ざった文章をトークン化します。",
  "ｶﾀｶﾅの半角文字や全角ＡＢＣ１２３も含まれています。",
  "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。",
  "「こんにちは」と彼は言った。……そして、静かに去っていった。",
];
const KOREAN = [
  "안녕하세요! 오늘 날씨가 정말 좋네요.",
  "한국어 문장을 토큰화하는 테스트입니다. 띄어쓰기도 중요합니다.",
  "서울특별시는 대한민국의 수도이며, 인구는 약 950만 명입니다.",
  "ㄱㄴㄷㄹ ㅏㅑㅓㅕ 자모만 있는 경우도 확인합니다.",
];
const ARABIC = [
  "مرحبا بالعالم! هذا اختبار لتقسيم النص إلى رموز.",
  "اللغة العربية تُكتب من اليمين إلى اليسار، وفيها تشكيل مثل الفَتْحة والضَّمّة.",
  "الأرقام العربية: ٠١٢٣٤٥٦٧٨٩ والأرقام الهندية ۰۱۲۳۴۵۶۷۸۹.",
  "السلام عليكم ورحمة الله وبركاته.",
];
const HINDI = [
  "नमस्ते दुनिया! यह एक परीक्षण वाक्य है।",
  "भारत की राजधानी नई दिल्ली है और यहाँ की जनसंख्या बहुत अधिक है।",
  "हिन्दी अंक: ०१२३४५६७८९ और संयुक्ताक्षर क्ष त्र ज्ञ श्र।",
  "मुझे चाय पसंद है, लेकिन कॉफ़ी भी अच्छी लगती है।",
];
const OTHER = [
  "Привет, мир! Съешь же ещё этих мягких французских булок, да выпей чаю.",
  "Γειά σου Κόσμε! Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.",
  "שלום עולם! זהו משפט בדיקה בעברית.",
  "สวัสดีชาวโลก ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
  "Xin chào thế giới! Tiếng Việt có nhiều dấu thanh: à á ả ã ạ ầ ấ ẩ ẫ ậ.",
  "Zażółć gęślą jaźń. Příliš žluťoučký kůň úpěl ďábelské ódy.",
  "ሰላም ዓለም! ᚠᚢᚦᚨᚱᚲ ⴰⵣⵓⵍ ⵎⵓⵏⴰ 𐌰𐌱𐌲 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐁𝐨𝐥𝐝 ℌ𝔢𝔩𝔩𝔬",
  "Ελληνικά με τόνους: ά έ ή ί ό ύ ώ ΐ ΰ και ſ ﬁ ﬂ Ǆ ǅ ǆ K Å Ω",
];
const EMOJI = [
  "👍", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿", "👨‍👩‍👧‍👦", "👩🏽‍💻", "🧑🏿‍🚀", "🏳️‍🌈", "🏴‍☠️", "❤️‍🔥",
  "🇺🇸", "🇯🇵", "🇩🇪", "1️⃣", "#️⃣", "✌🏾", "🤷‍♀️", "🙂", "🚀", "😂", "🫠", "🥲", "👁️‍🗨️", "🐻‍❄️",
  "👨🏻‍❤️‍💋‍👨🏼", "🧔🏽‍♂️", "☺︎", "☺️", "©", "™", "🀄", "🂡",
];
const COMBINING = [
  "e\u0301", "a\u0308", "o\u0302\u0301", "u\u0308\u0304", "n\u0303", "c\u0327\u0301", "A\u030A",
  "q\u0323\u0307", "q\u0307\u0323", "s\u0323\u0307", "\u1100\u1161\u11A8", "\u1112\u1161\u11AB",
  "\u212B", "\u2126", "\u0344", "\u0958", "\u0B47\u0B3E", "\u0915\u093C", "a\u0316\u0301\u0334",
  "\u0301leading", "x\u0345\u0301", "\u00E9\u0301", "\u1E0B\u0323", "\u0CC6\u0CC2\u0CD5",
  "\uAC00\u11A8", "\u0F73", "\u0374", "\u037E", "\u0387", "\u2000\u2001", "\uFB2C", "\uFA10",
  "\u{1D15E}", "\u{2F800}", "<\u0338", "=\u0338", ">\u0338",
];
const SPECIALS = [
  "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>",
  "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "<tool_call>", "</tool_call>",
  "<|fim_prefix|>", "<|reserved_special_token_5|>", "<|im_start", "im_end|>", "<<|im_end|>>",
];
const UNICODE_SPACES = [" ", "  ", "\t", "\u00A0", "\u3000", "\u2009", "\u202F", "\u2028", "\u0085",
  "\u200B", "\uFEFF", "\u1680", "\u205F", "\u000B", "\u000C", "\r", "\n", "\r\n"];

const CODE = [
  `#include <stdio.h>\n\nint main(int argc, char** argv) {\n    printf("Hello, %s!\\n", argv[0]);\n    return 0;\n}\n`,
  `def fibonacci(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n`,
  `const add = (a, b) => a + b;\nexport default function App() {\n\treturn <div className="app">{add(1, 2)}</div>;\n}\n`,
  `SELECT u.id, COUNT(*) AS n\nFROM users u\nJOIN orders o ON o.user_id = u.id\nWHERE o.total > 100.50\nGROUP BY u.id;\n`,
  `fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!("{:?}", v);\n}\n`,
  `    if (x != nullptr && *x >= 0x7F) { y <<= 2; z ^= ~mask; }\r\n\t\t// TODO(bob): fix this!!!\r\n`,
  `<html>\n  <body class="main">\n    <p id='x'>Some &amp; text &lt;here&gt;</p>\n  </body>\n</html>\n`,
  `#!/bin/bash\nset -euo pipefail\nfor f in *.txt; do echo "$f" | tr 'a-z' 'A-Z' >> out.log; done\n`,
  `    \n\n\n    indented_after_blank_lines = True   \n\t\n`,
];

function words(n) {
  const pool = [...ENGLISH, ...OTHER].join(" ").split(/\s+/);
  return repeat(n, () => pick(pool)).join(" ");
}

function number() {
  const kind = int(8);
  const digits = (n) => repeat(n, (_, i) => (i === 0 && n > 1 ? 1 + int(9) : int(10))).join("");
  switch (kind) {
    case 0: return digits(1 + int(40));
    case 1: return `${digits(1 + int(6))}.${digits(1 + int(8))}`;
    case 2: return `-${digits(1 + int(12))}`;
    case 3: return Number(digits(1 + int(9))).toLocaleString("en-US");
    case 4: return `${digits(1)}.${digits(3)}e${pick(["+", "-", ""])}${digits(1 + int(3))}`;
    case 5: return `0x${repeat(1 + int(16), () => pick("0123456789abcdefABCDEF")).join("")}`;
    case 6: return repeat(1 + int(4), () => digits(1 + int(4))).join(pick([" ", "-", "/", ":", "."]));
    default: return pick(["٣٤٥", "१२३४", "１２３", "²³¹", "½¾", "Ⅻ", "⑳", "𝟘𝟙𝟚", "௰", "〇一二"]);
  }
}

function jsonValue(depth) {
  const kind = depth > 2 ? int(4) : int(6);
  if (kind === 0) return int(1e6) / (int(2) ? 1 : 100);
  if (kind === 1) return pick([true, false, null]);
  if (kind === 2 || kind === 3) return words(1 + int(4));
  if (kind === 4) return repeat(int(4), () => jsonValue(depth + 1));
  return Object.fromEntries(repeat(1 + int(4), () => [pick(["id", "name", "value", "items", "é", "数据", "user_id", "createdAt"]), jsonValue(depth + 1)]));
}

function longWord() {
  const kind = int(7);
  if (kind === 0) return pick("abcdefgh").repeat(50 + int(3000));
  if (kind === 1) return repeat(100 + int(2000), () => pick("abcdefghijklmnopqrstuvwxyz")).join("");
  if (kind === 2) return "Pneumonoultramicroscopicsilicovolcanoconiosis".repeat(1 + int(20));
  if (kind === 3) return repeat(200 + int(1500), () => pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")).join("") + "==";
  if (kind === 4) return "https://example.com/" + repeat(20 + int(100), () => pick(["a", "b", "%20", "-", "_", "/", "?x=", "&"])).join("");
  if (kind === 5) return "中文".repeat(100 + int(500));
  return "9".repeat(100 + int(1000));
}

function randomCodePoints(n) {
  const blocks = [[0x20, 0x7e], [0xa0, 0x24f], [0x300, 0x36f], [0x370, 0x52f], [0x590, 0x6ff], [0x900, 0xdff],
    [0xe00, 0xfff], [0x1100, 0x11ff], [0x1e00, 0x1fff], [0x2000, 0x2bff], [0x3000, 0x30ff], [0x4e00, 0x9fff],
    [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfb00, 0xfffd], [0x10000, 0x1ffff], [0x20000, 0x2ffff], [0xe0000, 0xe007f]];
  return repeat(n, () => {
    const [lo, hi] = pick(blocks);
    return String.fromCodePoint(lo + int(hi - lo + 1));
  }).join("");
}

const GENERATORS = [
  () => pick(ENGLISH),
  () => repeat(1 + int(4), () => pick(ENGLISH)).join(pick([" ", "\n", "\r\n", "  ", "\n\n"])),
  () => pick(CHINESE) + pick(["", pick(CHINESE), " " + pick(ENGLISH)]),
  () => pick(JAPANESE),
  () => pick(KOREAN),
  () => pick(ARABIC),
  () => pick(HINDI),
  () => pick(OTHER),
  () => pick(CODE),
  () => JSON.stringify(jsonValue(0), null, pick([0, 2, 4, "\t"])),
  () => repeat(1 + int(6), number).join(pick([" ", ", ", "\n", "", "+", " x "])),
  () => repeat(1 + int(8), () => pick(EMOJI)).join(pick(["", " ", "a"])),
  () => `${pick(ENGLISH)} ${pick(EMOJI)}${pick(EMOJI)} ${pick(CHINESE)}`,
  () => repeat(1 + int(6), () => pick(UNICODE_SPACES).repeat(1 + int(5)) + words(int(3))).join(""),
  () => words(3 + int(10)).split(" ").join(pick(["\t", "\r\n", "    ", "\n\t", " \u00A0"])),
  () => longWord(),
  () => repeat(1 + int(5), () => pick(COMBINING) + words(int(2))).join(pick(["", " "])),
  () => `${words(2)} ${pick(SPECIALS)}${words(1 + int(3))}${pick(["", pick(SPECIALS)])} ${pick(ENGLISH)}`,
  () => repeat(2 + int(6), () => pick(["\uD800", "\uDFFF", "\uDBFF", "\uFFFD", "a", "é", " "])).join(""),
  () => randomCodePoints(1 + int(40)),
  () => pick(["'s", "'S", "'ll", "'LL", "'Ll", "'re", "'RE", "'ve", "'VE", "'m", "'M", "'d", "'D", "'t", "'T"]) +
    pick(["", "a", " ", "'", "s", "1", "中"]).repeat(1 + int(3)),
  () => " ".repeat(1 + int(30)) + pick(["", words(2), "\n", "1", "!"]) + " ".repeat(int(10)),
];

function makeText() {
  const text = pick(GENERATORS)();
  return Buffer.from(text, "utf8").toString("utf8");  // lone surrogates -> U+FFFD
}

if (mode === "corpus") {
  const lines = [];
  const fixed = [...ENGLISH, ...CHINESE, ...JAPANESE, ...KOREAN, ...ARABIC, ...HINDI, ...OTHER, ...CODE, ...EMOJI,
    ...COMBINING, ...SPECIALS, ...UNICODE_SPACES, "", " ", "a", "\r\n", "\t\t\t", "\uFFFD\uFFFD"];
  for (const t of fixed) lines.push(Buffer.from(t, "utf8").toString("utf8"));
  for (let n = 1; n <= 60; ++n) lines.push("7".repeat(n), "1234567890".repeat(6).slice(0, n), ` ${"3".repeat(n)}x`);
  while (lines.length < 3200) lines.push(makeText());
  process.stdout.write(lines.map((text) => JSON.stringify({ text })).join("\n") + "\n");
} else if (mode === "bench") {
  rand = mulberry32(777);
  const target = Number(process.argv[3] ?? 10_000_000);
  const parts = [];
  let size = 0;
  while (size < target) {
    const t = makeText() + "\n";
    parts.push(t);
    size += Buffer.byteLength(t);
  }
  process.stdout.write(parts.join(""));
} else {
  console.error("usage: node build_corpus.mjs corpus|bench [BYTES]");
  process.exit(2);
}
