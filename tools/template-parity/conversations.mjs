// The conversations every chat template is rendered with. Each one exercises
// something real requests carry: system prompts, multi-turn history, tools and
// tool results (single and parallel calls, arguments as objects and as JSON
// strings), reasoning text, unicode, and add_generation_prompt on and off.
// Some are meant to be rejected by strict templates (roles that do not
// alternate): those templates must raise in genstack too.

const weatherTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the current weather in a city",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", description: "City name, e.g. Paris" },
        unit: { type: "string", enum: ["celsius", "fahrenheit"], description: "Temperature unit" },
      },
      required: ["city"],
    },
  },
};

const searchTool = {
  type: "function",
  function: {
    name: "search_docs",
    description: "Search the documentation — returns matching snippets",
    parameters: {
      type: "object",
      properties: {
        query: { type: "string" },
        limit: { type: "integer", minimum: 1, maximum: 20, default: 5 },
        filters: {
          type: "object",
          properties: { lang: { type: "string" }, tags: { type: "array", items: { type: "string" } } },
        },
      },
      required: ["query"],
    },
  },
};

const tools = [weatherTool, searchTool];

const weatherCall = (id, city) => ({
  id,
  type: "function",
  function: { name: "get_weather", arguments: { city, unit: "celsius" } },
});

export const conversations = [
  { id: "user_only", messages: [{ role: "user", content: "Hello! How are you?" }], add_generation_prompt: true },
  { id: "user_only_no_prompt", messages: [{ role: "user", content: "Hello! How are you?" }], add_generation_prompt: false },
  {
    id: "system_user",
    messages: [
      { role: "system", content: "You are a concise assistant." },
      { role: "user", content: "What is the capital of France?" },
    ],
    add_generation_prompt: true,
  },
  {
    id: "multi_turn",
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "Name a prime number." },
      { role: "assistant", content: "7 is a prime number." },
      { role: "user", content: "And an even one?" },
    ],
    add_generation_prompt: true,
  },
  {
    id: "multi_turn_ends_with_assistant",
    messages: [
      { role: "user", content: "Tell me a joke." },
      { role: "assistant", content: "Why did the scarecrow win an award? Because he was outstanding in his field." },
    ],
    add_generation_prompt: false,
  },
  {
    id: "long_history",
    messages: [
      { role: "system", content: "Answer in one word." },
      { role: "user", content: "Color of the sky?" },
      { role: "assistant", content: "Blue." },
      { role: "user", content: "Color of grass?" },
      { role: "assistant", content: "Green." },
      { role: "user", content: "Color of snow?" },
      { role: "assistant", content: "White." },
      { role: "user", content: "Color of coal?" },
      { role: "assistant", content: "Black." },
      { role: "user", content: "Color of the sun?" },
    ],
    add_generation_prompt: true,
  },
  {
    id: "unicode",
    messages: [
      { role: "system", content: "Réponds en français, s'il te plaît. 你好 — こんにちは — 안녕하세요" },
      { role: "user", content: "Emoji: 👩‍💻👍🏽🇫🇷 — Arabic: مرحبا بالعالم — Hindi: नमस्ते — Greek: Ωμέγα" },
      { role: "assistant", content: "D'accord ! 😊 «Bonjour»" },
      { role: "user", content: "Merci ✨" },
    ],
    add_generation_prompt: true,
  },
  {
    id: "whitespace_and_newlines",
    messages: [
      { role: "system", content: "  Leading and trailing spaces.  \n" },
      { role: "user", content: "\nLine one\n\tLine two with a tab\n\nLine four\n" },
      { role: "assistant", content: " An answer with a space in front.\n" },
      { role: "user", content: "Thanks\r\nwith CRLF" },
    ],
    add_generation_prompt: true,
  },
  {
    id: "template_syntax_in_content",
    messages: [
      { role: "user", content: "Print {{ user }} and {% if x %} literally, with 'quotes', \"double\" and a \\ backslash." },
      { role: "assistant", content: "Here: {{ user }} {% if x %} {# comment #}" },
      { role: "user", content: "<|im_start|> and [INST] are just text here." },
    ],
    add_generation_prompt: true,
  },
  {
    id: "empty_content",
    messages: [
      { role: "user", content: "" },
      { role: "assistant", content: "You sent an empty message." },
      { role: "user", content: "ok" },
    ],
    add_generation_prompt: true,
  },
  {
    id: "tools_offered",
    messages: [{ role: "user", content: "What's the weather in Paris?" }],
    tools,
    add_generation_prompt: true,
  },
  {
    id: "tools_with_system",
    messages: [
      { role: "system", content: "You can call functions. Use them when useful." },
      { role: "user", content: "Find docs about streaming." },
    ],
    tools,
    add_generation_prompt: true,
  },
  {
    id: "tool_call_and_result",
    messages: [
      { role: "user", content: "What's the weather in Paris?" },
      { role: "assistant", content: null, tool_calls: [weatherCall("call00001", "Paris")] },
      { role: "tool", tool_call_id: "call00001", name: "get_weather", content: '{"temperature": 21, "condition": "sunny"}' },
    ],
    tools,
    add_generation_prompt: true,
  },
  {
    id: "tool_call_then_answer",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Weather in Tokyo?" },
      { role: "assistant", content: null, tool_calls: [weatherCall("abcDEF123", "Tokyo")] },
      { role: "tool", tool_call_id: "abcDEF123", name: "get_weather", content: "18 degrees, cloudy" },
      { role: "assistant", content: "It is 18 °C and cloudy in Tokyo." },
      { role: "user", content: "Thanks!" },
    ],
    tools,
    add_generation_prompt: true,
  },
  {
    id: "parallel_tool_calls",
    messages: [
      { role: "user", content: "Compare the weather in Oslo and Rome." },
      {
        role: "assistant",
        content: null,
        tool_calls: [weatherCall("call0oslo", "Oslo"), weatherCall("call0rome", "Rome")],
      },
      { role: "tool", tool_call_id: "call0oslo", name: "get_weather", content: "-3 degrees, snow" },
      { role: "tool", tool_call_id: "call0rome", name: "get_weather", content: "16 degrees, clear" },
      { role: "assistant", content: "Oslo is snowy at -3 °C; Rome is clear at 16 °C." },
    ],
    tools,
    add_generation_prompt: false,
  },
  {
    id: "tool_call_string_arguments",
    messages: [
      { role: "user", content: "Search the docs for 'tokenizer' in English." },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "srch00042",
            type: "function",
            function: { name: "search_docs", arguments: '{"query": "tokenizer", "filters": {"lang": "en"}}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "srch00042", name: "search_docs", content: "[]" },
    ],
    tools,
    add_generation_prompt: true,
  },
  {
    id: "tool_call_with_content",
    messages: [
      { role: "user", content: "Is it raining in London?" },
      {
        role: "assistant",
        content: "Let me check that for you.",
        tool_calls: [weatherCall("lond00001", "London")],
      },
      { role: "tool", tool_call_id: "lond00001", name: "get_weather", content: "rain, 12 degrees" },
    ],
    tools,
    add_generation_prompt: true,
  },
  {
    id: "thinking_disabled",
    messages: [{ role: "user", content: "Quick: 2 + 2?" }],
    add_generation_prompt: true,
    extra: { enable_thinking: false },
  },
  {
    id: "reasoning_in_history",
    messages: [
      { role: "user", content: "What is 12 * 12?" },
      { role: "assistant", content: "<think>\n12 * 12 = 144.\n</think>\n\n144" },
      { role: "user", content: "And 13 * 13?" },
    ],
    add_generation_prompt: true,
  },
  {
    id: "reasoning_last_turn",
    messages: [
      { role: "user", content: "Say hi." },
      { role: "assistant", content: "<think>\nThe user wants a greeting.\n</think>\n\nHi!" },
    ],
    add_generation_prompt: false,
  },
  {
    id: "date_string_given",
    messages: [
      { role: "system", content: "Today matters." },
      { role: "user", content: "What day is it?" },
    ],
    add_generation_prompt: true,
    extra: { date_string: "01 Jan 2025" },
  },
  {
    id: "multiple_system_messages",
    messages: [
      { role: "system", content: "First system part." },
      { role: "system", content: "Second system part." },
      { role: "user", content: "Hi" },
    ],
    add_generation_prompt: true,
  },
  {
    id: "content_parts",
    messages: [
      { role: "user", content: [{ type: "text", text: "Describe this." }, { type: "text", text: " Briefly." }] },
    ],
    add_generation_prompt: true,
  },
  {
    id: "code_and_markdown",
    messages: [
      { role: "system", content: "You write code." },
      { role: "user", content: "Write hello world in C." },
      {
        role: "assistant",
        content: '```c\n#include <stdio.h>\nint main(void) {\n  printf("hello, world\\n");\n  return 0;\n}\n```',
      },
      { role: "user", content: "Now in **Python**, as a `one-liner`." },
    ],
    add_generation_prompt: true,
  },
  {
    id: "long_message",
    messages: [{ role: "user", content: "Summarize: " + "The quick brown fox jumps over the lazy dog. ".repeat(60) }],
    add_generation_prompt: true,
  },
  {
    id: "two_turns_no_prompt",
    messages: [
      { role: "system", content: "System prompt with a trailing newline\n" },
      { role: "user", content: "Question one?" },
      { role: "assistant", content: "Answer one." },
      { role: "user", content: "Question two?" },
      { role: "assistant", content: "Answer two." },
    ],
    add_generation_prompt: false,
  },
  {
    id: "roles_not_alternating",
    messages: [
      { role: "user", content: "First question." },
      { role: "user", content: "Second question without an answer in between." },
    ],
    add_generation_prompt: true,
  },
  {
    id: "assistant_first",
    messages: [
      { role: "assistant", content: "I speak first." },
      { role: "user", content: "Fine." },
    ],
    add_generation_prompt: true,
  },
  {
    id: "tool_calls_empty_content",
    messages: [
      { role: "system", content: "Use tools when needed." },
      { role: "user", content: "Weather in Lima and Quito?" },
      {
        role: "assistant",
        content: "",
        tool_calls: [weatherCall("lima00001", "Lima"), weatherCall("quit00001", "Quito")],
      },
      { role: "tool", tool_call_id: "lima00001", name: "get_weather", content: "22 degrees" },
      { role: "tool", tool_call_id: "quit00001", name: "get_weather", content: "14 degrees" },
    ],
    tools,
    add_generation_prompt: true,
  },
  {
    id: "single_tool_call_empty_content",
    messages: [
      { role: "user", content: "Weather in Cairo?" },
      { role: "assistant", content: "", tool_calls: [weatherCall("cair00001", "Cairo")] },
      { role: "tool", tool_call_id: "cair00001", name: "get_weather", content: "35 degrees, sunny" },
      { role: "assistant", content: "35 °C and sunny." },
      { role: "user", content: "And tomorrow?" },
    ],
    tools,
    add_generation_prompt: true,
  },
  {
    id: "numbers_and_json_in_tool_result",
    messages: [
      { role: "user", content: "Stats please." },
      { role: "assistant", content: null, tool_calls: [weatherCall("stat00007", "Zürich")] },
      {
        role: "tool",
        tool_call_id: "stat00007",
        name: "get_weather",
        content: '{"temp": 3.5, "humidity": 0.82, "alerts": [], "station": "Zürich–Fluntern"}',
      },
    ],
    tools,
    add_generation_prompt: true,
  },
];
