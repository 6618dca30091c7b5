#!/usr/bin/env python3
"""Optional cross-check: renders every committed parity case with Python's
Jinja2 the way transformers does (ImmutableSandboxedEnvironment, trim_blocks,
lstrip_blocks, tojson without ASCII escaping, raise_exception) and prints any
case whose result differs from the @huggingface/jinja output in the data.

    python3 tools/template-parity/check_jinja2.py   # needs python3-jinja2
"""
import datetime
import glob
import json
import os
import sys

from jinja2.sandbox import ImmutableSandboxedEnvironment


class TemplateRaised(Exception):
    pass


def raise_exception(message):
    raise TemplateRaised(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def main():
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data", "templates")
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    differences = 0
    total = 0
    for path in sorted(glob.glob(os.path.join(data, "*.cases.json"))):
        name = os.path.basename(path)[: -len(".cases.json")]
        doc = json.load(open(path, encoding="utf-8"))
        now = datetime.datetime.fromisoformat(doc["now"])
        env.globals["strftime_now"] = now.strftime
        template = env.from_string(open(os.path.join(data, name + ".jinja"), encoding="utf-8").read())
        for case in doc["cases"]:
            total += 1
            try:
                result, error = template.render(**case["context"]), None
            except TemplateRaised as e:
                result, error = None, str(e)
            except Exception as e:  # noqa: BLE001 - any failure is a difference
                result, error = None, f"{type(e).__name__}: {e}"
            if result != case.get("expected") or error != case.get("error"):
                differences += 1
                print(f"{name}/{case['id']}: Jinja2 gives {error or 'a different rendering'}")
    print(f"{total} cases, {differences} differ from Jinja2")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
