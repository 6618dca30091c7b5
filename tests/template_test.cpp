// The Jinja interpreter: statements, expressions, filters, tests, methods,
// error positions and the limits that keep untrusted templates bounded.
#include <gtest/gtest.h>

#include <string>

#include <boost/json.hpp>

#include "template/chat_template.h"
#include "template/template.h"

namespace gs {
namespace {

// The output, or "ERROR: <message>".
std::string render(std::string_view source, std::string_view context = "{}",
                   tmpl::RenderOptions options = {}) {
  auto t = tmpl::Template::parse(source);
  if (!t.ok()) return "ERROR: " + t.error();
  auto out = t->render(boost::json::parse(context).as_object(), options);
  return out.ok() ? *out : "ERROR: " + out.error();
}

struct Case {
  const char* source;
  const char* want;
  const char* context = "{}";
};

void expect_all(std::initializer_list<Case> cases) {
  for (const Case& c : cases) EXPECT_EQ(render(c.source, c.context), c.want) << c.source;
}

TEST(Template, PrintsValuesLikeHuggingFaceJinja) {
  expect_all({
      {"{{ 1 }}|{{ 1.0 }}|{{ 0.5 }}|{{ 3 if false else 2.50 }}|{{ -3 }}", "1|1.0|0.5|2.5|-3"},
      {"{{ 'a' }}{{ none }}{{ missing }}|{{ true }}|{{ False }}", "a|true|false"},
      {"{{ [1, 'a', none, 2.5] }}", R"([1, "a", null, 2.5])"},
      {"{{ {'k': 1, 'z': [true]} }}", R"({"k": 1, "z": [true]})"},
      {"{{ 'a' 'b' }}{{ \"q\\\"\\n\" }}", "abq\"\n"},
      {"{{ x }}", "7", R"({"x": 7.0})"},  // integral JSON numbers are ints, as in JavaScript
  });
}

TEST(Template, WhitespaceControl) {
  expect_all({
      {"a  {%- if true -%}  b  {%- endif -%}  c", "abc"},
      {"{% if true %}\nx\n{% endif %}\ny", "x\ny"},  // trim_blocks
      {"  {% if true %}x{% endif %}", "x"},          // lstrip_blocks
      {"  {{ 'x' }}", "  x"},                        // lstrip_blocks leaves {{ alone
      {"x\n", "x"},                                  // one trailing newline dropped
      {"a {{- ' b ' -}} c", "a b c"},
      {"a{# comment #}b {#- trimmed -#} c", "abc"},
      {"{% generation %}kept{% endgeneration %}", "kept"},
  });
}

TEST(Template, ForLoops) {
  expect_all({
      {"{% for x in [1, 2, 3] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ "
       "loop.length }}"
       "{{ loop.revindex }},{% endfor %}",
       "10truefalse33,21falsefalse32,32falsetrue31,"},
      {"{% for x in [] %}x{% else %}empty{% endfor %}", "empty"},
      {"{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;"},
      {"{% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}", "ab"},
      {"{% for x in range(10) if x is odd %}{{ x }}{{ '' if loop.last else ',' }}{% endfor %}", "1,3,5,7,9"},
      {"{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}"
       "{{ x }}{% endfor %}",
       "013"},
      {"{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ b }}{% endfor %}{{ loop.index }};{% "
       "endfor %}",
       "1x2y1;1x2y2;"},
      {"{% for x in missing %}x{% else %}none{% endfor %}", "none"},
      {"{% for x in [1, 2, 3] %}{{ loop.cycle('a', 'b') }}{{ loop.previtem }}{% endfor %}", "ab1a2"},
  });
}

TEST(Template, IfSetNamespaceScopes) {
  expect_all({
      {"{% if 0 %}a{% elif '' %}b{% elif [1] %}c{% else %}d{% endif %}", "c"},
      {"{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}", "1"},  // loops scope their sets
      {"{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}",
       "6"},
      {"{% set a, b = 1, 2 %}{{ a }}{{ b }}", "12"},
      {"{% set block %}x{{ 1 + 1 }}{% endset %}[{{ block }}]", "[x2]"},
      {"{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns.c is defined }}", "12false"},
      {"{% set l = [] %}{% for i in range(3) %}{{ l.append(i) }}{% endfor %}{{ l }}", "[0, 1, 2]"},
  });
}

TEST(Template, MacrosCallAndFilterBlocks) {
  expect_all({
      {"{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bo') }} {{ "
       "greet('Al', "
       "punct='?') }}",
       "Hi Bo! Hi Al?"},
      {"{% macro m(a, b=a * 2) %}{{ a }},{{ b }},{{ varargs }},{{ kwargs }}{% endmacro %}{{ m(1, 5, 6, z=7) "
       "}}",
       R"(1,5,[6],{"z": 7})"},
      {"{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}inside{% endcall %}", "<inside>"},
      {"{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}"
       "{% call(v) each([1, 2]) %}[{{ v }}]{% endcall %}",
       "[1][2]"},
      {"{% filter upper %}shout {{ 'this' }}{% endfilter %}", "SHOUT THIS"},
      {"{% macro r(n) %}{% if n > 0 %}{{ n }}{{ r(n - 1) }}{% endif %}{% endmacro %}{{ r(3) }}", "321"},
  });
}

TEST(Template, Expressions) {
  expect_all({
      {"{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ 2 ** -1 }}",
       "3 -4 1 2 1024 3.5 0.5"},
      {"{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 'ab' * 2 }} {{ [1] + [2] }} {{ 'n=' ~ 5 ~ none }}",
       "7 9 abab [1, 2] n=5None"},
      {"{{ 1 < 2 }} {{ 'a' in 'cat' }} {{ 2 not in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 1 == 1.0 }} {{ [1] == "
       "[1] }}",
       "true true false true true true"},
      {"{{ 'y' if 0 else 'n' }}{{ 'never' if false }}{{ not 1 or 'x' }}{{ 0 and 1 }}", "nx0"},
      {"{{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ [1, 2, 3, 4][::2] }} {{ [1, 2, 3][-1] }} {{ 'héllo'[1] }}",
       "el olleh [1, 3] 3 é"},
      {"{{ messages[0]['content'] }} {{ messages[0].role }} {{ messages[5] is undefined }}", "hi user true",
       R"({"messages": [{"role": "user", "content": "hi"}]})"},
      {"{{ x.a.b.c }}{{ x.items }}", "[1]", R"({"x": {"items": [1]}})"},  // keys before dict methods
  });
}

TEST(Template, StringDictListMethods) {
  expect_all({
      {"{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '\\nq\\n'.lstrip('\\n') }}|{{ 'q  '.rstrip() }}",
       "a b|a|q\n|q"},
      {"{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }}",
       R"(["a", "b", "", "c"] ["a", "b"] ["a", "b c"])"},
      {"{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'Hello World'.upper() }} "
       "{{ 'HeLLo'.lower() }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }}",
       "true true HELLO WORLD hello Hello World Hello"},
      {"{{ 'a-b-c'.replace('-', '+') }} {{ 'a-b-c'.replace('-', '', 1) }} {{ 'hello'.find('l') }} "
       "{{ 'hello'.count('l') }} {{ ', '.join(['x', 'y']) }}",
       "a+b+c ab-c 2 2 x, y"},
      {"{{ '{} and {name}'.format(1, name='two') }}", "1 and two"},
      {"{{ d.get('a') }} {{ d.get('zz', 'dflt') }} {{ d.keys() }} {{ d.values() }} {{ d.items() }}",
       R"(1 dflt ["a", "b"] [1, 2] [["a", 1], ["b", 2]])", R"({"d": {"a": 1, "b": 2}})"},
      {"{{ [3, 1, 2].index(2) }} {{ [1, 1, 2].count(1) }}", "2 2"},
  });
}

TEST(Template, Filters) {
  expect_all({
      {"{{ '  x  ' | trim }}|{{ 'abc' | length }}|{{ [1, 2] | count }}|{{ {'a': 1} | length }}|{{ 'héé' | "
       "length }}",
       "x|3|2|1|3"},
      {"{{ [1, 2, 3] | join('-') }} {{ ['a', 'b'] | join }} {{ users | map(attribute='name') | join(', ') }}",
       "1-2-3 ab Al, Bo", R"({"users": [{"name": "Al"}, {"name": "Bo"}]})"},
      {"{{ users | selectattr('admin') | map(attribute='name') | list }} "
       "{{ users | rejectattr('name', 'equalto', 'Al') | map(attribute='name') | first }}",
       R"(["Al"] Bo)", R"({"users": [{"name": "Al", "admin": true}, {"name": "Bo"}]})"},
      {"{{ [1, 2, 3, 4] | select('even') | list }} {{ [1, 2, 3] | reject('odd') | list }} "
       "{{ ['a', 'B'] | map('upper') | list }}",
       R"([2, 4] [2] ["A", "B"])"},
      {"{{ [3, 1, 2] | first }}{{ [3, 1, 2] | last }} {{ 'Ab' | lower }}{{ 'ab' | upper }} {{ 'ab cd' | "
       "title }} "
       "{{ 'ab' | capitalize }}",
       "32 abAB Ab Cd Ab"},
      {"{{ 'a-b' | replace('-', '_') }} {{ missing | default('dflt') }} {{ '' | d('empty', true) }} "
       "{{ none | default('x') }}|",
       "a_b dflt empty |"},
      {"{{ '42' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '2.5' | float }} {{ -3 | abs }} {{ 2.567 | "
       "round(2) }} "
       "{{ 5 | string }}{{ 1.5 | string }}",
       "42 7 3 2.5 3 2.57 51.5"},
      {"{{ {'b': 1, 'a': 2} | dictsort }} {{ {'b': 1, 'a': 2} | items | list }} {{ [1, 2, 1, 3] | unique | "
       "list }}",
       R"([["a", 2], ["b", 1]] [["b", 1], ["a", 2]] [1, 2, 3])"},
      {"{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}", "a\n  b\n\n  c|  a\n  b"},
      {"{{ [1, 2, 3] | sum }} {{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }} {{ ['b', 'A', 'c'] | sort }} "
       "{{ [1, 2] | reverse | list }} {{ 'abc' | reverse }}",
       R"(6 1 3 ["A", "b", "c"] [2, 1] cba)"},
      {"{{ users | sort(attribute='age', reverse=true) | map(attribute='age') | list }} {{ [1, 2, 3] | "
       "batch(2) }}",
       "[30, 20] [[1, 2], [3]]", R"({"users": [{"age": 20}, {"age": 30}]})"},
      {"{{ 'one two  three' | wordcount }} {{ '<a>' | safe }} {{ '<a>' | e }}", "3 <a> &lt;a&gt;"},
  });
}

TEST(Template, ToJson) {
  const char* ctx = R"({"t": {"name": "f", "b": [1, {"c": null}], "u": "é\"\n"}})";
  expect_all({
      {"{{ t | tojson }}", R"({"name": "f", "b": [1, {"c": null}], "u": "é\"\n"})", ctx},
      {"{{ t | tojson(indent=2) }}",
       "{\n  \"name\": \"f\",\n  \"b\": [\n    1,\n    {\n      \"c\": null\n    }\n  ],\n  \"u\": "
       "\"é\\\"\\n\"\n}",
       ctx},
      {"{{ t | tojson(sort_keys=true, ensure_ascii=true) }}",
       R"({"b": [1, {"c": null}], "name": "f", "u": "\u00e9\"\n"})", ctx},
      {"{{ {'a': []} | tojson(indent=4) }} {{ 'x' | tojson }} {{ (2.0 * 1) | tojson }}", R"({
    "a": []
} "x" 2)"},
  });
}

TEST(Template, Tests) {
  expect_all({
      {"{{ x is defined }}{{ y is undefined }}{{ none is none }}{{ 'a' is string }}{{ 1 is number }}{{ 1 is "
       "integer }}"
       "{{ 1.5 is float }}",
       "truetruetruetruetruetruetrue", R"({"x": 1})"},
      {"{{ {} is mapping }}{{ [] is iterable }}{{ 'a' is sequence }}{{ true is boolean }}{{ true is true }}"
       "{{ false is false }}{{ 1 is true }}",
       "truetruetruetruetruetruefalse"},
      {"{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(2) }}{{ 2 is equalto 2 }}"
       "{{ 2 is in [1, 2] }}{{ 1 is not none }}",
       "truetruetruefalsetruetruetrue"},
  });
}

TEST(Template, GlobalsAndChatContext) {
  tmpl::RenderOptions options;
  options.now = std::tm{};
  options.now->tm_year = 124;
  options.now->tm_mon = 6;
  options.now->tm_mday = 26;
  EXPECT_EQ(render("{{ strftime_now('%d %b %Y') }} {{ range(3) }} {{ range(5, 0, -2) }} {{ dict(a=1) }}",
                   "{}", options),
            "26 Jul 2024 [0, 1, 2] [5, 3, 1] {\"a\": 1}");

  tmpl::ChatInputs in;
  in.messages = boost::json::parse(R"([{"role": "user", "content": "Hi"}])").as_array();
  in.bos_token = "<s>";
  in.extra["enable_thinking"] = false;
  auto out = tmpl::render_chat_template(
      "{{ bos_token }}{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}"
      "{{ tools is none }}{{ enable_thinking }}{% if add_generation_prompt %}>{% endif %}",
      in);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(*out, "<s>[user:Hi]truefalse>");
}

TEST(Template, ErrorsNameLineAndColumn) {
  expect_all({
      {"{{ raise_exception('bad input') }}", "ERROR: line 1, column 4: bad input"},
      {"ok\n  {{ x | nope }}", "ERROR: line 2, column 8: unknown filter 'nope'"},
      {"{% if true %}\nno end", "ERROR: line 1, column 1: {% if %} is not closed (expected {% endif %})"},
      {"{{ 'unclosed }}", "ERROR: line 1, column 4: string is not closed"},
      {"{{ 1 + }}", "ERROR: line 1, column 8: expected an expression, got '}}'"},
      {"{% endfor %}", "ERROR: line 1, column 1: unknown or misplaced statement 'endfor'"},
      {"{% break %}", "ERROR: line 1, column 1: 'break' outside a for loop"},
      {"{{ 1 / 0 }}", "ERROR: line 1, column 6: division by zero"},
      {"{{ undefined_fn() }}", "ERROR: line 1, column 4: 'undefined_fn' is undefined"},
      {"{% set x = 1 %}{% set x.y = 2 %}",
       "ERROR: line 1, column 16: cannot set attribute 'y' of int (only namespace() objects)"},
      {"{{ 'é' @ 1 }}", "ERROR: line 1, column 8: unexpected character '@'"},
      {"{# open comment", "ERROR: line 1, column 1: comment is not closed with #}"},
  });
}

TEST(Template, UntrustedTemplatesStayBounded) {
  tmpl::RenderOptions small;
  small.max_output_bytes = 1 << 16;
  small.max_steps = 100000;
  auto fails_with = [&](const std::string& src, const std::string& what) {
    const std::string out = render(src, "{}", small);
    EXPECT_EQ(out.rfind("ERROR: line ", 0), 0u) << src << " -> " << out.substr(0, 200);
    EXPECT_NE(out.find(what), std::string::npos) << src << " -> " << out.substr(0, 200);
  };
  fails_with("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "nesting deeper");
  fails_with("{% for i in range(1000000000) %}{% endfor %}", "range() is too long");
  fails_with("{% for i in range(90000) %}{% for j in range(90000) %}{% endfor %}{% endfor %}", "budget");
  fails_with("{% for i in range(1000) %}{{ 'x' * 1000 }}{% endfor %}", "output longer");
  fails_with("{{ 'x' * 100000000 }}", "too long");
  fails_with("{% set ns = namespace() %}{% set ns.me = ns %}", "cannot contain itself");
  fails_with("{% set l = [] %}{{ l.append([l]) }}", "cannot contain itself");
  fails_with("{{ " + std::string(300, '(') + "1" + std::string(300, ')') + " }}", "nesting deeper");
  std::string chain = "{{ 1";
  for (int i = 0; i < 5000; ++i) chain += " + 1";
  fails_with(chain + " }}", "nested deeper");
  // A value nested far deeper than the printer follows is an error, not a stack overflow.
  fails_with(
      "{% set ns = namespace(v=[]) %}{% for i in range(300) %}{% set ns.v = [ns.v] %}{% endfor %}{{ ns.v }}",
      "nested too deeply");
}

}  // namespace
}  // namespace gs
