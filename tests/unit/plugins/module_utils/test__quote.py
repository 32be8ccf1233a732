# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rendering layer, by properties: every hostile string is refused, or read back by the target's parser as
exactly the value, in one piece; and in whole configurations, no field can change the statement structure.

Hypothesis runs derandomized (the same examples on every run) so that CI is reproducible; the examples include
the cases found by hand (see KNOWN)."""

from __future__ import annotations

import copy
import re
import subprocess

import pytest
from hostile import HOSTILE, KNOWN
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from reference_parsers import (
    Expansion,
    haproxy_words,
    nginx_string,
    syslog_ng_backticks,
    syslog_ng_string,
    syslog_ng_tokens,
    systemd_exec_word,
    systemd_path_list_word,
    systemd_run_words,
    systemd_specifiers,
)

from ansible_collections.opsnotes.edge.plugins.module_utils import _haproxy, _quote, _syslog_ng
from ansible_collections.opsnotes.edge.plugins.module_utils._acme import sites_errors

STRINGS = st.one_of(st.sampled_from(KNOWN),
                    st.text(alphabet=st.sampled_from(HOSTILE + list('abz019/.:_')), max_size=40))
PATHS = st.one_of(st.sampled_from(['/' + k.lstrip('/') for k in KNOWN]),
                  st.builds(lambda s: '/srv/' + s, st.text(alphabet=st.sampled_from(HOSTILE + list('ab/.')),
                                                           max_size=30)))
SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None)
CONTROL = re.compile(r'[\x00-\x1f\x7f]')


# --- each language: refused, or read back as exactly the value ----------------------------------------------------

def bash_reads(value, word):
    """The real parser: bash reads the word as code, printf prints what it got."""
    out = subprocess.run(['bash', '-c', 'printf %s ' + word], capture_output=True, check=True).stdout
    return out == value.encode('utf-8', 'surrogatepass')


def syslog_ng_template_reads(value, rendered):
    """One whole string; the user's own backslash escapes and backtick references are syslog-ng's, so plain text
    must come back as is, and a reference stays one."""
    try:
        parsed, rest = syslog_ng_string(syslog_ng_backticks(rendered))
    except Expansion:
        return '`' in value and rendered.count('`') == value.count('`')
    return rest == '' and ('\\' in value or '`' in value or parsed == value)


# (language, render, when a refusal is right, how the target reads the rendering back)
LANGUAGES = [
    ('haproxy', _quote.haproxy_word, lambda v: v == '' or CONTROL.search(v),
     lambda v, r: haproxy_words('    acl a path -- %s' % r) == ['acl', 'a', 'path', '--', v]),
    ('syslog_ng', _quote.syslog_ng_string, lambda v: v == '' or '\0' in v,
     lambda v, r: '\n' not in r and '\r' not in r and syslog_ng_string(syslog_ng_backticks(r)) == (v, '')),
    ('syslog_ng_template', _quote.syslog_ng_template,
     lambda v: '\0' in v or re.sub('`([A-Za-z_][A-Za-z0-9_.-]*)?`', '', v).count('`'), syslog_ng_template_reads),
    ('nginx', _quote.nginx_string, lambda v: v == '' or '$' in v or CONTROL.search(v),
     lambda v, r: nginx_string(r + ';') == (v, ';')),
    ('systemd', _quote.systemd_value, lambda v: v == '' or CONTROL.search(v) or v.endswith('\\'),
     lambda v, r: '\n' not in r and systemd_specifiers(r) == v),
    ('systemd_exec', _quote.systemd_exec_arg, CONTROL.search, lambda v, r: systemd_exec_word(r) == v),
    ('shell', _quote.shell_word, lambda v: '\0' in v, bash_reads),
    ('systemd_run', _quote.systemd_run_word, lambda v: v == '' or CONTROL.search(v),
     lambda v, r: systemd_run_words('"-/x" %s "/y"' % r) == ['-/x', v, '/y']),
]


@pytest.mark.parametrize('render, may_refuse, reads_back', [entry[1:] for entry in LANGUAGES],
                         ids=[entry[0] for entry in LANGUAGES])
@SETTINGS
@given(value=STRINGS)
def test_each_language_refuses_or_reads_back_exactly(render, may_refuse, reads_back, value):
    try:
        rendered = render(value)
    except _quote.Unsafe:
        assert may_refuse(value), value
        return
    assert reads_back(value, rendered), (value, rendered)


@SETTINGS
@given(PATHS)
def test_systemd_listed_path_is_one_entry_read_back_exactly(value):
    try:
        rendered = _quote.systemd_path(value, listed=True)
    except _quote.Unsafe:
        return
    assert systemd_path_list_word(rendered) == value


def test_known_hostile_values_get_the_expected_answers():
    with pytest.raises(_quote.Unsafe, match='has a scope'):
        _quote.ip_address('::1%lo" port(514)); };')
    with pytest.raises(_quote.Unsafe, match='must be an interface name'):
        _quote.ip_address('fe80::1%lo\nport(1)', scope=True)
    assert _quote.ip_address('fe80::1%eth0', scope=True) == 'fe80::1%eth0'
    assert _quote.haproxy_word('-f') == '-f'                 # the caller puts '--' before values
    assert _quote.syslog_ng_string('a`b') == '"a``b"'
    with pytest.raises(_quote.Unsafe, match='continuation'):
        _quote.systemd_value('a\\')
    with pytest.raises(_quote.Unsafe, match='calendar'):
        _quote.systemd_calendar('*-*-* 03:17:00\nExecStart=/bin/x')
    with pytest.raises(_quote.Unsafe, match='normalised'):
        _quote.abs_path('/etc/../shadow')
    assert _quote.errors('v', _quote.port, '80') == [] and _quote.errors('v', _quote.port, 0) != []
    assert _quote.unit_name('opsnotes-x@a.service') and _quote.errors('u', _quote.unit_name, 'x.service\n') != []
    assert _quote.dns_name('www.lab.test.') and _quote.host('lab.test') == 'lab.test'
    with pytest.raises(_quote.Unsafe):
        _quote.host('lab.test; rm')
    assert _quote.text(7) == '7'
    with pytest.raises(_quote.Unsafe, match='must be a string'):
        _quote.text(None)
    assert _quote.fullmatch(r'a+', 'aa') and not _quote.fullmatch(r'a+', 'aa\n')


# --- whole configurations: every string field is refused with its path, or changes no structure --------------------

def leaves(value, path=()):
    """Paths of every string in a nested structure."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, path + (index,))
    elif isinstance(value, str):
        yield path


def var_path(prefix, path):
    """('frontends', 0, 'acls', 1, 'values', 0) -> 'haproxy_frontends[0].acls[1].values[0]'."""
    text = prefix
    for index, part in enumerate(path):
        if isinstance(part, int):
            text += '[%d]' % part
        else:
            text += part if index == 0 else '.' + part
    return text


def setting(config, path, value):
    config = copy.deepcopy(config)
    target = config
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return config


# Fields that name another object: a new value may be refused where the other object is named instead.
REFERENCES = ('name', 'backend', 'default_backend', 'cond', 'criterion', 'sources', 'destinations', 'filters',
              'template', 'external_sources', 'external_destinations')


def refused_with_its_path(errors, var, path):
    return any(var in e for e in errors) or any(part in REFERENCES for part in path if isinstance(part, str))


HAPROXY = dict(
    frontends=[dict(name='fe', bind=['*:80'], mode='http',
                    acls=[dict(name='a', criterion='path_beg', flags=['-i'], values=['/x', 'y']),
                          dict(name='b', criterion='hdr(host)', values=['www']),
                          dict(name='auth', criterion='http_auth(ops)')],
                    http_request=[dict(action='deny', args='deny_status 400', cond='a !{ src 10.0.0.0/8 }'),
                                  dict(action='auth', args='realm x', cond='!auth')],
                    use_backend=[dict(backend='be', cond='b || a')], default_backend='be'),
               dict(name='fe_tls', bind=['*:80'], tls_bind=['*:443'], tls_certificates=['/etc/haproxy/certs/a.pem'],
                    alpn=['h2', 'http/1.1'], acme_challenge=True, acme_challenge_domains=['www.example.test'],
                    redirect_https=True, hsts_max_age=600,
                    default_backend='be')],
    backends=[dict(name='be', balance='roundrobin', servers=[dict(name='s1', address='192.0.2.1', port=80)])],
    userlists=[dict(name='ops', users=[dict(name='u', password='$6$salt$hash')])],
    **{'global': dict(stats_socket='/run/haproxy/admin.sock', state_file='/var/lib/haproxy/state',
                      acme_thumbprint='a' * 43, tls_profile='intermediate')})
HAPROXY_FIELDS = sorted(leaves(HAPROXY), key=str)


# Fields written as HAProxy or syslog-ng syntax on purpose (action arguments, conditions, raw criteria, filter
# expressions): they may hold several words, but never a new line or statement.
RAW = ('args', 'cond', 'criterion', 'expression')


def haproxy_structure(text, raw=False):
    """Per directive line, its keyword and (unless the field is raw syntax) its number of words."""
    # Lines end at '\n' only, as for HAProxy (Python's splitlines would also split at U+2028).
    return [(words[0], None if raw else len(words)) for words in map(haproxy_words, text.split('\n')) if words]


@SETTINGS
@given(st.sampled_from(HAPROXY_FIELDS), STRINGS)
def test_every_haproxy_field_is_refused_or_changes_no_structure(path, value):
    assert _haproxy.lint(HAPROXY)[0] == []
    config = setting(HAPROXY, path, value)
    var = var_path('haproxy_', path[1:] if path[0] == 'global' else path)
    errors = _haproxy.lint(config)[0]
    if errors:
        assert refused_with_its_path(errors, var, path), (var, errors)
        return
    raw = path[-1] in RAW
    assert haproxy_structure(_haproxy.render(config), raw) == haproxy_structure(_haproxy.render(HAPROXY), raw), var


SYSLOG_NG = dict(
    file_sources=[dict(name='s_app', path='/var/log/app.log', program_override='app.example.org',
                       persist_name='p_app')],
    network_sources=[dict(name='s_net', port=6514, ip='0.0.0.0')],
    templates=[dict(name='t_x', template='${HOST} ${MSG}\\n')],
    filters=[dict(name='f_app', expression='program("app") and not message("x;y")')],
    file_destinations=[dict(name='d_file', path='/var/log/remote/$PROGRAM/access.log', template='$MSG\\n',
                            owner='root', group='adm', perm='0640', dir_perm='0750')],
    network_destinations=[dict(name='d_net', host='logs.example.org', port=6514, template='t_x',
                               disk_buffer=dict(disk_buf_size=10485760, dir='/var/lib/sng'))],
    log_paths=[dict(sources=['s_app', 's_net'], filters=['f_app'], destinations=['d_file', 'd_net'])],
)
SYSLOG_NG_FIELDS = sorted(leaves(SYSLOG_NG), key=str)


def syslog_ng_structure(text, raw=False, references=False):
    """The punctuation and the number of words between: a value kept inside its string changes neither. For a
    raw field, the statement skeleton: braces and semicolons. ``references``: backtick references (a template's
    own syntax) stand for a value."""
    if raw:
        return [token for token in syslog_ng_tokens(text, references) if token in '{};']
    return ['W' if token not in '{}();' else token for token in syslog_ng_tokens(text, references)]


@SETTINGS
@given(st.sampled_from(SYSLOG_NG_FIELDS), STRINGS)
def test_every_syslog_ng_field_is_refused_or_changes_no_structure(path, value):
    assert _syslog_ng.lint(SYSLOG_NG)[0] == []
    config = setting(SYSLOG_NG, path, value)
    var = var_path('syslog_ng_', path)
    errors = _syslog_ng.lint(config)[0]
    if errors:
        assert refused_with_its_path(errors, var, path), (var, errors)
        return
    raw = path[-1] in RAW
    try:
        # A template is syslog-ng syntax: its backtick references are the user's (and stay inside its string).
        structure = syslog_ng_structure(_syslog_ng.render(config), raw, references=path[-1] == 'template')
    except Expansion as exc:
        raise AssertionError('%s: %r is expanded by syslog-ng: %s' % (var, value, exc)) from None
    assert structure == syslog_ng_structure(_syslog_ng.render(SYSLOG_NG), raw), var


SITES = [dict(name='shop', domains=['shop.test', 'www.shop.test'], webroot='/var/lib/acme', root='/srv/shop'),
         dict(name='api', domains=['api.test'], upstream='http://127.0.0.1:8080')]
SITE_FIELDS = sorted(leaves(SITES), key=str)


@SETTINGS
@given(st.sampled_from(SITE_FIELDS), STRINGS)
def test_every_nginx_acme_site_field_is_refused_or_reads_back_in_nginx(path, value):
    assert sites_errors(SITES, ['rsa']) == []
    sites = setting(SITES, path, value)
    var = var_path('nginx_acme_sites', path)
    errors = sites_errors(sites, ['rsa'])
    if errors:
        assert any(var in e for e in errors), (var, errors)
        return
    # What the templates write of it: paths and the upstream through the nginx layer, names as DNS names.
    if path[1] in ('webroot', 'root', 'upstream'):
        assert nginx_string(_quote.nginx_string(value) + ';') == (value, ';')
    else:
        assert re.fullmatch(r'[A-Za-z0-9_.-]+', value), (var, value)


def test_negative_control_the_checks_catch_naive_quoting():
    """The same checks fail for the renderings this layer replaced: each can tell a safe rendering from an unsafe
    one."""
    # HAProxy: single quotes without escaping (the old q()), and a raw path.
    with pytest.raises(ValueError, match='unterminated'):
        haproxy_words("    acl a path 'it's'")
    assert len(haproxy_words("    acl a path -f /etc/shadow")) == 5 and haproxy_words('acl a path -f x')[3] == '-f'
    # syslog-ng: a quote inside plain double quotes ends the string and adds statements.
    naive = 'destination d { network("%s" port(514)); };' % '::1%lo" port(514)); }; destination d_x { program("x'
    assert syslog_ng_structure(naive) != syslog_ng_structure('destination d { network("::1" port(514)); };')
    with pytest.raises(Expansion):
        syslog_ng_tokens('template t { template("`HOME`"); };')
    # nginx: an unescaped quote ends the argument; a '$' is a variable.
    assert nginx_string('"/srv/a"b";')[0] != '/srv/a"b'
    with pytest.raises(Expansion):
        nginx_string('"/srv/$host";')
    # systemd: '%' unescaped is a specifier, '$' an environment variable.
    with pytest.raises(Expansion):
        systemd_specifiers('/var/%n')
    with pytest.raises(Expansion):
        systemd_exec_word('"ops$HOME"')
    # HAProxy structure: a newline in a raw state-file path adds a directive.
    config = setting(HAPROXY, ('global', 'state_file'), '/x\nstats socket ipv4@0.0.0.0:9999 level admin')
    naive_text = _haproxy.render(HAPROXY).replace('server-state-file /var/lib/haproxy/state',
                                                  'server-state-file ' + config['global']['state_file'])
    assert haproxy_structure(naive_text) != haproxy_structure(_haproxy.render(HAPROXY))
    # bash: an unquoted command substitution runs.
    out = subprocess.run(['bash', '-c', 'printf %s ops$(printf X)@example.org'], capture_output=True, check=True)
    assert out.stdout == b'opsX@example.org'


@pytest.mark.parametrize('value, expected', [
    ('192.0.2.1', '192.0.2.1'), ('192.0.2.0/24', '192.0.2.0/24'), ('10.1.2.3/8', '10.1.2.3/8'),
    ('2001:DB8::/32', '2001:db8::/32'), ('::1/128', '::1/128'), ('0.0.0.0/0', '0.0.0.0/0'),
])
def test_ip_network(value, expected):
    assert _quote.ip_network(value) == expected


@given(st.text())
def test_ip_network_passes_only_bare_words(value):
    """Whatever passes is one word of hex digits, '.', ':' and '/': nothing any config language reads as syntax."""
    try:
        _quote.ip_network(value)
    except _quote.Unsafe:
        return
    assert re.fullmatch(r'[0-9A-Fa-f.:/]+', value)


def test_a_unit_path_ending_in_a_blank_is_refused():
    # ConditionPathExists=/etc/x<blank>: systemd strips the blank and tests another path (found by the differential
    # test of the VIP unit). In a list (ReadWritePaths=) the blank is C-escaped instead.
    with pytest.raises(_quote.Unsafe, match='must not end with a blank'):
        _quote.systemd_path('/etc/opsnotes/vips ')
    assert _quote.systemd_path('/etc/opsnotes/vips ', listed=True) == '/etc/opsnotes/vips\\x20'
    assert _quote.systemd_path('/etc/a b') == '/etc/a b'


@pytest.mark.parametrize('fragment, words', [
    ('{ var(txn.alg) -m str "RS256" }', ['{', 'var(txn.alg)', '-m', 'str', 'RS256', '}']),
    ('{ path_reg ^/.+\\.php(/.*)?$ }', ['{', 'path_reg', '^/.+\\.php(/.*)?$', '}']),     # "\." stays
    ("{ path_beg '/x/' }", ['{', 'path_beg', '/x/', '}']),
    ("'a \"b\\ c'", ['a "b\\ c']),                            # single quotes: everything literal
    ('"a \'b\\" c"', ["a 'b\" c"]),                          # double quotes: \" escapes
    ('a\\ b \\x41 \\\\ "#x" \\#y', ['a b', 'A', '\\', '#x', '#y']),
    ('x\\$y "p\\$q" "${HOME}" "$HOME-x" "${A-def}"', ['x\\$y', 'p$q', '${HOME}', '$HOME-x', '${A-def}']),
    ('"a\\nb" \\t', ['a\nb', '\t']),                          # escapes that make a line break inside a word
    ('ab"c d"e\'f g\'', ['abc def g']),                      # quoted parts join their word
    ('  a \t b  ', ['a', 'b']), ('', []), ('""', ['']),
])
def test_haproxy_split_reads_as_haproxy_parse_line_does(fragment, words):
    assert _quote.haproxy_split(fragment) == words


@pytest.mark.parametrize('fragment, message', [
    ('a\nb', 'must stay on one line'), ('a\rb', 'must stay on one line'), ('a\0b', 'must stay on one line'),
    ('a # b', 'an unquoted "#" starts a comment'), ('a "b', 'unmatched double quote'),
    ("a 'b", 'unmatched single quote'), ('a\\x4', 'two hexadecimal digits'), ('a\\x00', 'would end the word'),
    ('"$1"', 'starts an environment variable'), ('"${A"', 'starts an environment variable'),
])
def test_haproxy_split_refuses_what_would_not_stay_one_fragment(fragment, message):
    with pytest.raises(_quote.Unsafe, match=re.escape(message)):
        _quote.haproxy_split(fragment)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters='\n\r\0', blacklist_categories=('Cs',)), min_size=1))
def test_haproxy_split_reads_every_rendered_word_back(value):
    try:
        word = _quote.haproxy_word(value)
    except _quote.Unsafe:
        assume(False)
    assert _quote.haproxy_split(word) == [value]
