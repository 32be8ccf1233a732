# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""HAProxy's own configurations through the role, judged by HAProxy: a corpus built from what Debian ships with the
HAProxy it installs (the manual's examples, from haproxy-doc, and the configurations of the haproxy package: its
default haproxy.cfg and its examples directory).

Each example is made a configuration the way its text reads: a configuration when it has sections; otherwise its
lines in a listen section (a frontend and a backend in one), or, when HAProxy refuses them there, in the global or
the defaults section. Backends it names and does not define get an empty one. What HAProxy accepts is the corpus.
Each piece goes through the importer (the role's variables, and every line they cannot hold listed with the
reason), the lint, the renderer, and haproxy -c again. The matrix is printed; the test holds that no valid piece is
refused by the lint, none rendered is refused by HAProxy, and none comes back with another meaning: every section
the same, kind by kind, in order (the global and defaults sections: every line of the original that the variables
hold is there). The controls: the comparison notices a line left out, and haproxy -c refuses a line gone wrong.
"""

from __future__ import annotations

import collections
import html
import io
import re
import tarfile

from ansible_collections.opsnotes.edge.plugins.module_utils import _haproxy
from ansible_collections.opsnotes.edge.plugins.module_utils._haproxy_import import (
    import_config,
    milliseconds,
    role_config,
    strip_comment,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._quote import haproxy_split

MANUAL = '/usr/share/doc/haproxy/html/configuration.html'
CONFIGURATIONS = 'ls /etc/haproxy/haproxy.cfg /usr/share/doc/haproxy/examples/*.cfg'
DEFAULTS = 'defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n'
NAME = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.:-]*$')


def manual_examples(text):
    """The configuration text of each example of the manual's HTML (its <code>, without the description)."""
    out = []
    for block in re.findall(r'<pre class="prettyprint">(.*?)</pre>', text, re.S):
        code = re.search(r'<code>(.*?)</code>', block, re.S)
        body = html.unescape(re.sub(r'<[^>]+>', '', code.group(1) if code else block))
        if body.strip():
            out.append(body)
    return out


def forms(example):
    """The configurations an example can be, in the order tried: the first one HAProxy accepts is its form."""
    # The manual continues a long line on the next one after a backslash; HAProxy's lines do not continue.
    example = re.sub(r'[ \t]*\\\n[ \t]*', ' ', example)
    lines = [line for line in example.splitlines() if line.strip()]
    if any(line.split()[0] in _haproxy.SECTIONS and not line[:1].isspace() for line in lines):
        return [('configuration', DEFAULTS + example)]
    body = ''.join('    %s\n' % line.strip() for line in lines)
    binds = '' if re.search(r'^\s*bind\s', example, re.M) else '    bind 127.0.0.1:10000\n'
    named = set(re.findall(r'\b(?:use_backend|default_backend)\s+([A-Za-z0-9_.:-]+)', example))
    stubs = ''.join('backend %s\n' % name for name in sorted(named) if NAME.match(name))
    return [('listen', DEFAULTS + 'listen corpus\n' + binds + body + stubs),
            ('global', 'global\n' + body + DEFAULTS),
            ('defaults', DEFAULTS + body)]


def check_all(box, texts):
    """{name: (rc, output)} of haproxy -c on each of ``texts`` ({name: text}), in one go."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode='w') as tar:
        for name, text in texts.items():
            raw = text.encode('utf-8')
            info = tarfile.TarInfo('%s.cfg' % name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    box.run('rm -rf /tmp/corpus && mkdir -p /tmp/corpus && tar -x -C /tmp/corpus', input_bytes=data.getvalue())
    out = box.run('cd /tmp/corpus && for f in *.cfg; do haproxy -c -f "$f" > "$f.out" 2>&1; echo "$f $?"; done',
                  timeout=600).stdout.decode()
    results = {}
    for line in out.splitlines():
        name, rc = line.rsplit(' ', 1)
        results[name[:-4]] = int(rc)
    outputs = box.run('cd /tmp/corpus && for f in *.cfg; do printf "%s\\0" "$f"; cat "$f.out"; printf "\\0"; done')
    parts = outputs.stdout.decode(errors='replace').split('\0')
    text_of = dict(zip([p[:-4] for p in parts[0::2]], parts[1::2], strict=False))
    return {name: (rc, text_of.get(name, '')) for name, rc in results.items()}


def kind(words):
    return ' '.join(words[:2]) if words[0] in ('tcp-request', 'tcp-response') else words[0]


def words_of(line):
    """The words HAProxy reads from a line (its quoting undone), with an ACL's "--" left out (it only ends the
    flags, and the renderer always writes it)."""
    words = haproxy_split(line)
    if words[:1] == ['acl'] and '--' in words:
        words.remove('--')
    return words


def normalised(text):
    """{section header: {kind: [lines of that kind, in order]}}: the order HAProxy follows is within a kind."""
    out, current = {}, None
    for raw in text.splitlines():
        line = strip_comment(raw)
        if not line.strip():
            continue
        words = words_of(line)
        if not line[:1].isspace() and words[0] in _haproxy.SECTIONS:
            current = ' '.join(words)
            out.setdefault(current, {})
        elif current:
            out[current].setdefault(kind(words), []).append(' '.join(words))
    return out


def same_meaning(original, rendered, inexpressible):
    """The differences between ``original`` and ``rendered`` (none: the same meaning). Proxy sections, userlists and
    http-errors: equal kind by kind. Global and defaults: every line of the original that is not listed as
    inexpressible is in the rendered section (a value the role has a variable for, as that value)."""
    skipped = {' '.join(words_of(strip_comment(entry['text']))) for entry in inexpressible}
    before, after = normalised(original), normalised(rendered)
    problems = []
    for header, kinds in before.items():
        if header in skipped:
            continue
        if header.split()[0] in ('global', 'defaults'):
            mine = {line for lines in after.get(header, {}).values() for line in lines}
            for line in (line for lines in kinds.values() for line in lines):
                words = line.split()
                if line in skipped or line in mine:
                    continue
                if words[0] == 'timeout' and len(words) == 3 and \
                        'timeout %s %s' % (words[1], milliseconds(words[2])) in mine:
                    continue
                problems.append('%s: %r is not in the rendered section' % (header, line))
        elif after.get(header) != {k: v for k, v in kinds.items() if not all(line in skipped for line in v)}:
            problems.append('%s: %r became %r' % (header, kinds, after.get(header)))
    return problems


def test_haproxy_s_own_examples_and_configurations_come_back_through_the_role(haproxy_box):
    box = haproxy_box
    version = box.run('haproxy -v').stdout.decode().split()[2]
    examples = manual_examples(box.run('cat %s' % MANUAL).stdout.decode())
    configurations = {path: box.run('cat %s' % path).stdout.decode()
                      for path in box.run(CONFIGURATIONS).stdout.decode().split()}
    assert len(examples) > 150 and len(configurations) > 3, (len(examples), configurations.keys())

    # 1. What HAProxy accepts, and in which form.
    tried = {}
    for index, example in enumerate(examples):
        for form, text in forms(example):
            tried['m%03d-%s' % (index, form)] = text
    for index, (_path, text) in enumerate(sorted(configurations.items())):
        tried['c%03d-configuration' % index] = text
    judged = check_all(box, tried)
    corpus, refused_by_haproxy = {}, 0
    for index in range(len(examples)):
        names = [name for name in sorted(judged) if name.startswith('m%03d-' % index)]
        order = [form for form, _text in forms(examples[index])]
        names.sort(key=lambda name: order.index(name.split('-', 1)[1]))
        good = next((name for name in names if judged[name][0] in (0, 2)), None)
        if good:
            corpus[good] = tried[good]
        else:
            refused_by_haproxy += 1
    for name in (n for n in judged if n.startswith('c')):
        if judged[name][0] in (0, 2):
            corpus[name] = tried[name]

    # 2. Through the importer, the lint and the renderer; then HAProxy again.
    rows, rendered, reasons, lint_refused = {}, {}, collections.Counter(), []
    for name, text in sorted(corpus.items()):
        variables, inexpressible = import_config(text)
        config = role_config(variables)
        errors = _haproxy.lint(config)[0]
        if errors:
            lint_refused.append((name, errors, text))
            continue
        rendered[name] = _haproxy.render(config)
        rows[name] = inexpressible
        reasons.update(re.split(r' \(|: ', entry['reason'])[0] for entry in inexpressible)
    again = check_all(box, rendered)
    haproxy_refused = [(name, again[name][1]) for name in rendered if again[name][0] not in (0, 2)]
    other_meaning = [(name, problems) for name in rendered
                     for problems in [same_meaning(corpus[name], rendered[name], rows[name])] if problems]

    # 3. The matrix.
    manual = [name for name in corpus if name.startswith('m')]
    confs = [name for name in corpus if name.startswith('c')]
    complete = [name for name in rows if not rows[name]]
    print('\nHAProxy %s: %d examples of the manual (%d refused by HAProxy in every form), %d configurations'
          % (version, len(examples), refused_by_haproxy, len(configurations)))
    print('%-48s %8s %15s' % ('', 'examples', 'configurations'))
    for label, names in (('accepted by haproxy -c (the corpus)', corpus),
                         ('  as a configuration / listen / global / defaults', None),
                         ('every line held by the variables', complete),
                         ('some lines listed as inexpressible', [n for n in rows if rows[n]]),
                         ('refused by the lint', [n for n, _e, _t in lint_refused]),
                         ('rendered, refused by haproxy -c', [n for n, _o in haproxy_refused]),
                         ('rendered with another meaning', [n for n, _p in other_meaning])):
        if names is None:
            forms_count = collections.Counter(name.split('-', 1)[1] for name in manual)
            counts = [str(forms_count[f]) for f in ('configuration', 'listen', 'global', 'defaults')]
            print('%-48s %8s' % (label, ' / '.join(counts)))
            continue
        print('%-48s %8d %15d' % (label, len([n for n in names if n.startswith('m')]),
                                  len([n for n in names if n.startswith('c')])))
    print('inexpressible lines, by reason:')
    for reason, count in reasons.most_common():
        print('%6d  %s' % (count, reason))

    assert len(manual) > 100 and len(confs) > 3, (len(manual), confs)
    assert lint_refused == [], lint_refused[:5]
    assert haproxy_refused == [], haproxy_refused[:5]
    assert other_meaning == [], other_meaning[:5]
    # Every listed line has its reason.
    assert all(entry['reason'] for entry in sum(rows.values(), []))

    # Controls. The comparison notices a line left out: the last line of the first section that has more than one.
    name = next(n for n in sorted(rendered) if any(len(lines) > 1 for kinds in normalised(rendered[n]).values()
                                                   for lines in kinds.values() if lines[0].split()[0] == 'acl'))
    fewer = rendered[name].splitlines()
    fewer.remove(next(line for line in reversed(fewer) if line.strip().startswith('acl ')))
    assert same_meaning(corpus[name], '\n'.join(fewer), rows[name])
    # ... and haproxy -c refuses a rendered configuration with one line gone wrong (a criterion HAProxy lacks).
    broken = re.sub(r'^(    acl \S+) \S+', r'\1 opsnotes_no_such_fetch', rendered[name], count=1, flags=re.M)
    assert broken != rendered[name]
    assert check_all(box, {'broken': broken})['broken'][0] not in (0, 2)
