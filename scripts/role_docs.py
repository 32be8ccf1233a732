#!/usr/bin/env python
"""Keep role docs honest.

For every role: the keys of defaults/main.yml must equal the options of meta/argument_specs.yml that
have a default (required options have none), and README.md's variables section, between the
BEGIN/END markers, is generated from argument_specs.

  role_docs.py           rewrite the README sections
  role_docs.py --check   fail when a README is stale or defaults and specs diverge (run by `make lint`)
"""

from __future__ import annotations

import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
BEGIN = '<!-- BEGIN generated from meta/argument_specs.yml by scripts/role_docs.py -->'
END = '<!-- END generated -->'


def cell(value):
    return str(value).replace('|', '\\|').replace('\n', ' ')


def render(spec):
    lines = [BEGIN, '', '| Variable | Type | Default | Description |', '| --- | --- | --- | --- |']
    for name, opt in spec['options'].items():
        kind = opt.get('type', 'str')
        if opt.get('elements'):
            kind += ' of ' + opt['elements']
        if opt.get('choices'):
            kind += ' (' + ', '.join(str(c) for c in opt['choices']) + ')'
        if opt.get('required'):
            default = '**required**'
        else:
            dumped = yaml.safe_dump(opt.get('default'), default_flow_style=True, width=1 << 16)  # one line
            default = '`%s`' % dumped.strip().replace('\n...', '')
        desc = opt.get('description', '')
        desc = ' '.join(desc) if isinstance(desc, list) else desc
        lines.append('| `%s` | %s | %s | %s |' % (name, cell(kind), cell(default), cell(desc)))
    lines += ['', END]
    return '\n'.join(lines)


def main(check):
    problems = []
    for role in sorted(p for p in (ROOT / 'roles').iterdir() if p.is_dir()):
        spec = yaml.safe_load((role / 'meta' / 'argument_specs.yml').read_text())['argument_specs']['main']
        defaults_file = role / 'defaults' / 'main.yml'
        defaults = (yaml.safe_load(defaults_file.read_text()) or {}) if defaults_file.exists() else {}
        optional = {k for k, v in spec['options'].items() if not v.get('required')}
        for key in sorted(set(defaults) ^ optional):
            where = 'defaults/main.yml' if key in defaults else 'meta/argument_specs.yml'
            problems.append('%s: %s is only in %s' % (role.name, key, where))
        for key in sorted(set(defaults) & optional):
            if 'default' in spec['options'][key] and spec['options'][key]['default'] != defaults[key]:
                problems.append('%s: %s defaults differ (%r in defaults, %r in argument_specs)'
                                % (role.name, key, defaults[key], spec['options'][key]['default']))
        readme = role / 'README.md'
        text = readme.read_text() if readme.exists() else ''
        if BEGIN not in text or END not in text:
            problems.append('%s: README.md lacks the generated variables markers' % role.name)
            continue
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        new = head + render(spec) + tail
        if new != text:
            if check:
                problems.append('%s: README.md variables section is stale: run scripts/role_docs.py' % role.name)
            else:
                readme.write_text(new)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main('--check' in sys.argv[1:]))
