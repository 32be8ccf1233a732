# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Differential tests of the rendering layer against the real parsers: HAProxy, syslog-ng, nginx, systemd and
keepalived.

One container from the lab's base image (systemd as PID 1) on a network this test creates, with haproxy,
syslog-ng and nginx from Debian's archive. Hostile values (the cases found by hand, and generated ones) are
rendered by the collection's quote functions into one configuration per service, which the service's own
checker must accept; then the service runs it and hands every value back (an HTTP body, a log line, a
command's output), which must equal the value byte for byte. Valid syntax from the manuals (conditions that
haproxy -c accepts, a template with a real newline) must pass our lint. Each part has a negative control: the
naive rendering this layer replaced is shown to fail the same check.
"""

from __future__ import annotations

import json
import random
import shlex
import time

from hostile import HAPROXY_DOCUMENTED, HOSTILE, KNOWN

from ansible_collections.opsnotes.edge.plugins.module_utils import _haproxy, _keepalived, _lvs_dr, _quote, _syslog_ng


def generated(count=400, seed=12):
    """Deterministic hostile strings from the same alphabet as the property tests."""
    rng = random.Random(seed)
    alphabet = HOSTILE + list('abz019/.:_')
    return [''.join(rng.choice(alphabet) for _char in range(rng.randint(1, 24))) for _value in range(count)]


VALUES = list(dict.fromkeys(KNOWN + generated()))


def accepted(function, values=None):
    out = []
    for value in VALUES if values is None else values:
        try:
            out.append((value, function(value)))
        except _quote.Unsafe:
            pass
    return out


def fetch_all(box, port, count):
    """GET /0 .. /count-1 on 127.0.0.1:port inside the container: the bodies, in order."""
    script = 'for i in $(seq 0 %d); do curl -s --max-time 5 http://127.0.0.1:%d/$i; printf "\\0\\0"; done' % (
        count - 1, port)
    return box.run(script).stdout.split(b'\0\0')[:count]


# --- HAProxy --------------------------------------------------------------------------------------------------------

def haproxy_return_frontend(port, words):
    lines = ['frontend fe_%d' % port, '    bind 127.0.0.1:%d' % port]
    lines += ['    http-request return status 200 content-type text/plain string %s if { path /%d }' % (word, index)
              for index, word in enumerate(words)]
    return '\n'.join(lines) + '\n'


def test_haproxy_reads_every_value_back_and_accepts_the_manual_syntax(box):
    pairs = accepted(_quote.haproxy_word)
    assert len(pairs) > 80
    # Our renderer: every accepted value as an ACL pattern after '--', and conditions from the manual.
    config = dict(frontends=[dict(
        name='fe_lint', bind=['127.0.0.1:18079'],
        acls=[dict(name='v', criterion='path', values=[value for value, _word in pairs]),
              dict(name='dup_host', criterion='hdr_cnt(host)', values=['gt', '1']),
              # '-f' after '--' is a pattern: without '--' it would load /etc/hostname as the patterns.
              dict(name='dash', criterion='hdr(x-v)', values=['-f', '/etc/hostname'])],
        http_request=[dict(action='deny', cond='{ path_beg /admin } !{ src 10.0.0.0/8 }'),
                      dict(action='deny', cond='! { src 127.0.0.0/8 }'),
                      dict(action='deny', cond='!!v || dup_host'),
                      dict(action='deny', cond='dash')],
        default_backend='be')],
        # TLS to the servers, verified (the system trust store, a name) or not: words haproxy -c must accept.
        backends=[dict(name='be', servers=[dict(name='s', address='127.0.0.1', port=9)]),
                  dict(name='be_tls', servers=[
                      dict(name='v', address='127.0.0.1', port=9, check=True, ssl=True, sni='www.example.org',
                           send_proxy_v2=True),
                      dict(name='c', address='127.0.0.1', port=9, ssl=True,
                           ca_file='/etc/ssl/certs/ca-certificates.crt'),
                      dict(name='n', address='127.0.0.1', port=9, ssl=True, ssl_verify=False, sni='a.example.org')])],
        **{'global': dict(stats_socket="/run/opsnotes diff's.sock", state_file='/var/tmp/hap state')})
    assert _haproxy.lint(config)[0] == []
    rendered = _haproxy.render(config) + haproxy_return_frontend(18080, [word for _value, word in pairs])
    # Negative control: the old rendering (plain single quotes) of a value with a quote breaks the file.
    naive_quote = rendered + haproxy_return_frontend(18081, ["'%s'" % "it's fine"])
    box.write('/etc/opsnotes-diff/naive.cfg', naive_quote)
    assert b'unmatched quote' in box.run('haproxy -c -f /etc/opsnotes-diff/naive.cfg', check=False).stderr
    box.write('/etc/opsnotes-diff/haproxy.cfg', rendered)
    box.run('haproxy -c -f /etc/opsnotes-diff/haproxy.cfg')
    box.run('haproxy -D -p /run/opsnotes-diff-haproxy.pid -f /etc/opsnotes-diff/haproxy.cfg')
    try:
        bodies = fetch_all(box, 18080, len(pairs))
        assert [b.decode('utf-8') for b in bodies] == [value for value, _word in pairs]
        status = 'curl -s -o /dev/null -w %{http_code} -H "x-v: $V" http://127.0.0.1:18079/zz-probe'
        assert box.run('V=-f; ' + status).stdout == b'403'
        assert box.run('V=$(cat /etc/hostname); ' + status).stdout != b'403'
    finally:
        box.run('kill $(cat /run/opsnotes-diff-haproxy.pid)', check=False)


def test_haproxy_reads_every_map_entry_and_pattern_back(box):
    """Map and pattern files (haproxy_maps) of hostile keys, values and patterns: HAProxy loads every accepted entry
    as given (the runtime API's show map / show acl list them). Control: the naive file (an entry per line as
    given, no space before a '#') loses the commented entries."""
    def one(value, check):
        try:
            return check(value)
        except _quote.Unsafe:
            return None
    keys = [v for v in VALUES if one({v: 'x'}, _haproxy.map_lines)]
    values = [v for v in VALUES if one({'k': v}, _haproxy.map_lines)]
    patterns = [v for v in VALUES if one([v], _haproxy.map_lines)]
    assert len(keys) > 40 and len(values) > 80 and len(patterns) > 80 and any(k.startswith('#') for k in keys)
    entries = {'k%d%s' % (index, key): values[index % len(values)] for index, key in enumerate(keys)}
    entries.update(('v%d' % index, value) for index, value in enumerate(values))
    config = dict(maps=[dict(name='hosts.map', entries=entries), dict(name='paths.lst', entries=patterns),
                        dict(name='hash.map', entries={'#x': 'first'})])
    assert _haproxy.lint(config)[0] == []
    for name, text in _haproxy.render_maps(config, 'Managed').items():
        box.write('/etc/opsnotes-diff/maps/' + name, text)
    # The naive file of the same hash key: a comment to HAProxy.
    box.write('/etc/opsnotes-diff/maps/naive.map', '#x first\n')
    refs = ['map(/etc/opsnotes-diff/maps/%s)' % name for name in ('hosts.map', 'hash.map', 'naive.map')]
    box.write('/etc/opsnotes-diff/maps.cfg', '\n'.join([
        'global', '    stats socket /run/opsnotes-diff-maps.sock level admin',
        'defaults', '    mode http', '    timeout client 1s', '    timeout server 1s', '    timeout connect 1s',
        'frontend fe', '    bind 127.0.0.1:18090',
        '    acl p path -f /etc/opsnotes-diff/maps/paths.lst', '    http-request deny if p'] +
        ['    http-request set-var(txn.m%d) str(x),%s' % (index, ref) for index, ref in enumerate(refs)] +
        ['    default_backend be', 'backend be', '    server s 127.0.0.1:9', '']))
    box.run('haproxy -c -f /etc/opsnotes-diff/maps.cfg')
    box.run('haproxy -D -p /run/opsnotes-diff-maps.pid -f /etc/opsnotes-diff/maps.cfg')
    try:
        def show(what):
            ask = ('import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); '
                   's.sendall(sys.argv[2].encode() + b"\\n"); sys.stdout.buffer.write(b"".join(iter(lambda: s.recv(65536), b"")))')
            out = box.run('python3 -c %s /run/opsnotes-diff-maps.sock %s' % (shlex.quote(ask), shlex.quote('show ' + what))).stdout
            return out.decode('utf-8').rstrip('\n').split('\n') if out.strip() else []

        def pairs(lines):
            return [tuple(line.split(' ', 2)[1:]) if line.count(' ') > 1 else (line.split(' ', 1)[1], '')
                    for line in lines]
        assert pairs(show('map /etc/opsnotes-diff/maps/hosts.map')) == list(entries.items())
        assert [line.split(' ', 1)[1] for line in show('acl /etc/opsnotes-diff/maps/paths.lst')] == patterns
        assert pairs(show('map /etc/opsnotes-diff/maps/hash.map')) == [('#x', 'first')]
        assert show('map /etc/opsnotes-diff/maps/naive.map') == []          # control: the comment
    finally:
        box.run('kill $(cat /run/opsnotes-diff-maps.pid)', check=False)


def test_haproxy_accepts_the_documented_syntax_the_lint_passes_and_reads_it_as_written(box):
    """Conditions and action arguments from HAProxy's documentation (any fetch, converter or action; quotes and
    backslashes), passed by the lint and rendered as written: haproxy -c accepts them, and requests show HAProxy
    read the quoted and escaped words as the lint did (a regex's "\\." stays an escaped dot, a quoted blank stays
    in the value)."""
    returns = [('php', '{ path_reg ^/.+\\.php(/.*)?$ }'), ('ab', '{ hdr(x-q) -m str "a b" }'),
               ('quoted', "{ path_beg '/x/' }"), ('dq', '{ hdr(x-q) -m str "a\\"b" }')]
    rules = [dict(action='return', args='status 200 content-type "text/plain" string "%s"' % body, cond=cond)
             for body, cond in returns]
    rules += [dict(action='set-var(txn.host)', args='req.hdr(host),lower'),
              dict(action='replace-path', args="'(.*)/$' '\\1'")]
    rules += [dict(action='deny', cond=cond) for cond in HAPROXY_DOCUMENTED]
    config = dict(frontends=[dict(name='fe_doc', bind=['127.0.0.1:18082'], http_request=rules,
                                  acls=[dict(name='listed', criterion='src', flags=['-f /etc/opsnotes-diff/src list'])],
                                  use_backend=[dict(backend='be', cond='listed')], default_backend='be')],
                  backends=[dict(name='be', servers=[dict(name='s', address='127.0.0.1', port=9)])])
    assert _haproxy.lint(config)[0] == []
    box.write('/etc/haproxy/hosts.map', 'www.example.org be\n')
    box.write('/etc/opsnotes-diff/src list', '192.0.2.0/24\n')
    box.write('/etc/opsnotes-diff/doc.cfg', _haproxy.render(config))
    box.run('haproxy -c -f /etc/opsnotes-diff/doc.cfg')
    # Negative control: the same rules with a quote left open is refused by HAProxy too (and by the lint).
    broken = _haproxy.render(config).replace('string "php"', 'string "php')
    box.write('/etc/opsnotes-diff/doc-broken.cfg', broken)
    assert box.run('haproxy -c -f /etc/opsnotes-diff/doc-broken.cfg', check=False).returncode != 0
    box.run('haproxy -D -p /run/opsnotes-diff-doc.pid -f /etc/opsnotes-diff/doc.cfg')
    try:
        def get(path, header=''):
            return box.run('curl -s --max-time 5 %s http://127.0.0.1:18082%s' % (
                '-H %s' % shlex.quote(header) if header else '', path)).stdout
        assert get('/a.php') == b'php' and get('/x/y') == b'quoted'
        assert get('/q', 'x-q: a b') == b'ab' and get('/q', 'x-q: a"b') == b'dq'
        # Controls: "\\." is an escaped dot (not any character), and the quoted blank belongs to the value.
        assert get('/aaphp') != b'php' and get('/q', 'x-q: a') != b'ab'
    finally:
        box.run('kill $(cat /run/opsnotes-diff-doc.pid)', check=False)


# --- syslog-ng ------------------------------------------------------------------------------------------------------

def syslog_ng_config(version, strings, templates):
    lines = ['@version: %s' % version, 'options { keep-hostname(yes); };',
             'destination d_out { file("/var/tmp/sng/out.log" template("$PROGRAM\\n")); };']
    for index, string in enumerate(strings):
        lines.append('source s_%d { file("/var/tmp/sng/in_%d.log" program-override(%s) flags(no-parse) '
                     'follow-freq(1)); };' % (index, index, string))
        lines.append('log { source(s_%d); destination(d_out); };' % index)
    for index, template in enumerate(templates):
        lines.append('template t_%d { template(%s); };' % (index, template))
    return '\n'.join(lines) + '\n'


def test_syslog_ng_reads_every_value_back(box):
    version = box.run("syslog-ng --version | sed -n 's/^Config version: //p'").stdout.decode().strip()
    # A program name is one line of a log file: values with control characters are covered by --syntax-only.
    printable = [v for v in VALUES if v and '\0' not in v and not any(ord(c) < 32 or ord(c) == 127 for c in v)]
    pairs = accepted(_quote.syslog_ng_string, printable)
    # Template syntax is the user's ('$(...)' calls a template function, '@' a correlation state): the values
    # without it must give templates that parse; with it, the property tests show they stay one string.
    templates = [t for _v, t in accepted(_quote.syslog_ng_template, [v for v in VALUES if '$' not in v and '@' not in v])]
    templates.append(_quote.syslog_ng_template('$ISODATE $MSG\n'))
    # A backtick reference keeps its meaning (here a value syslog-ng defines itself), and the empty template parses.
    templates += [_quote.syslog_ng_template('`syslog-ng-data` $MSG ``\n'), _quote.syslog_ng_template('')]
    assert len(pairs) > 80
    # The whole lint and renderer too: an accepted configuration with hostile strings passes --syntax-only.
    lint_config = dict(file_sources=[dict(name='s_x', path='/var/log/a "b" `c`.log', program_override='app')],
                       templates=[dict(name='t_x', template='$ISODATE $HOST $MSG\n')],
                       file_destinations=[dict(name='d_x', path='/var/log/x/$PROGRAM.log', template='t_x')],
                       log_paths=[dict(sources=['s_x'], destinations=['d_x'])])
    assert _syslog_ng.lint(lint_config)[0] == []
    box.write('/var/tmp/sng/lint.conf', '@version: %s\n%s' % (version, _syslog_ng.render(lint_config)))
    box.run('syslog-ng --syntax-only --cfgfile=/var/tmp/sng/lint.conf')
    box.write('/var/tmp/sng/d.conf', syslog_ng_config(version, [s for _v, s in pairs], templates))
    box.run('syslog-ng --syntax-only --cfgfile=/var/tmp/sng/d.conf')
    box.run('rm -f /var/tmp/sng/out.log; syslog-ng -F --cfgfile=/var/tmp/sng/d.conf -R /var/tmp/sng/persist '
            '-p /var/tmp/sng/pid -c /var/tmp/sng/ctl >/var/tmp/sng/daemon.log 2>&1 & sleep 2')
    try:
        box.run('for i in $(seq 0 %d); do echo line >> /var/tmp/sng/in_$i.log; done' % (len(pairs) - 1))
        lines = []
        for _second in range(60):
            lines = box.run('cat /var/tmp/sng/out.log 2>/dev/null', check=False).stdout.decode('utf-8').split('\n')[:-1]
            if len(lines) >= len(pairs):
                break
            time.sleep(1)
        assert sorted(lines) == sorted(value for value, _s in pairs)
    finally:
        box.run('kill $(cat /var/tmp/sng/pid)', check=False)
    # Negative control: the old rendering (plain double quotes) of the scope case adds a program() destination.
    naive = syslog_ng_config(version, ['"%s"' % 'app"); }; destination d_x { program("touch /tmp/x'], [])
    box.write('/var/tmp/sng/naive.conf', naive)
    proc = box.run('syslog-ng --syntax-only --cfgfile=/var/tmp/sng/naive.conf; syslog-ng --preprocess-into=/dev/stdout '
                   '--cfgfile=/var/tmp/sng/naive.conf', check=False)
    assert b'program(' in proc.stdout or proc.returncode != 0


def test_syslog_ng_judges_templates_and_its_message_names_the_variable(box):
    """Templates syslog-ng refuses (a function it does not have, an unclosed ${ or $( ) pass the lint, which leaves
    them to syslog-ng: its --syntax-only refuses each, and locate() names the variable of the line it points at.
    Control: the same configuration with valid templates passes."""
    version = box.run("syslog-ng --version | sed -n 's/^Config version: //p'").stdout.decode().strip()
    bad = {'$(nosuchfunc $MSG)\n': 'Unknown template function', '${MSG\n': "'}' is missing",
           '$(echo $MSG\n': "imbalanced '('"}
    box.write('/var/tmp/sng/main.conf', '@version: %s\n@include "/var/tmp/sng/frag.conf"\n' % version)
    for template, message in bad.items():
        config = dict(templates=[dict(name='t_ok', template='$ISODATE $MSG\n'), dict(name='t_bad', template=template)],
                      file_sources=[dict(name='s_x', path='/var/tmp/sng/x.log')],
                      file_destinations=[dict(name='d_x', path='/var/tmp/sng/y.log', template='t_bad')],
                      log_paths=[dict(sources=['s_x'], destinations=['d_x'])])
        assert _syslog_ng.lint(config)[0] == [], template
        sources = {}
        box.write('/var/tmp/sng/frag.conf', _syslog_ng.render(config, 'Managed', sources))
        proc = box.run('syslog-ng --syntax-only --cfgfile=/var/tmp/sng/main.conf', check=False)
        output = (proc.stdout + proc.stderr).decode()
        assert proc.returncode != 0 and message in output, (template, output)
        located = _syslog_ng.locate(output, '/var/tmp/sng/frag.conf', sources)
        assert '(syslog_ng_templates[1])' in located, (template, located)
        # Control: a valid template there passes.
        config['templates'][1]['template'] = '$(echo $MSG)\n'
        box.write('/var/tmp/sng/frag.conf', _syslog_ng.render(config, 'Managed'))
        box.run('syslog-ng --syntax-only --cfgfile=/var/tmp/sng/main.conf')


# --- nginx -----------------------------------------------------------------------------------------------------------

def test_nginx_reads_every_value_and_path_back(box):
    pairs = accepted(_quote.nginx_string)
    assert len(pairs) > 80
    # Paths with hostile names (no '/' inside a name, so each is one directory) served through alias.
    names = list(dict.fromkeys(v.replace('/', '_') for v, _s in pairs if v.replace('/', '_') not in ('.', '..')))
    lines = ['pid /run/opsnotes-diff-nginx.pid;', 'error_log /var/tmp/ngx/error.log;', 'events {}', 'http {',
             '  access_log off;', '  server {', '    listen 127.0.0.1:18082;']
    lines += ['    location = /%d { default_type text/plain; return 200 %s; }' % (i, s) for i, (_v, s) in enumerate(pairs)]
    lines += ['    location /p%d/ { alias %s; }' % (i, _quote.nginx_path('/var/tmp/ngx/d/%s/' % name))
              for i, name in enumerate(names)]
    lines += ['  }', '  server {', '    listen 127.0.0.1:18083;',
              # Negative control: the values unescaped, as the template wrote paths before.
              '    location = /0 { default_type text/plain; return 200 "%s"; }' % 'say "hi"',
              '    location = /1 { default_type text/plain; return 200 "%s"; }' % '/srv/$host', '  }', '}']
    box.write('/var/tmp/ngx/nginx.conf', '\n'.join(lines) + '\n')
    for index, name in enumerate(names):
        box.write('/var/tmp/ngx/d/%s/f.txt' % name, 'file %d' % index)
    proc = box.run('nginx -t -c /var/tmp/ngx/nginx.conf', check=False)
    # The negative control's first location does not even parse: show it, then test without it.
    assert proc.returncode != 0 and b'unexpected' in proc.stderr
    box.run("sed -i '/say \"hi\"/d' /var/tmp/ngx/nginx.conf && nginx -t -c /var/tmp/ngx/nginx.conf")
    box.run('nginx -c /var/tmp/ngx/nginx.conf')
    try:
        bodies = fetch_all(box, 18082, len(pairs))
        assert [b.decode('utf-8') for b in bodies] == [value for value, _s in pairs]
        files = box.run('for i in $(seq 0 %d); do curl -s http://127.0.0.1:18082/p$i/f.txt; echo; done'
                        % (len(names) - 1)).stdout.decode().splitlines()
        assert files == ['file %d' % i for i in range(len(names))]
        # The negative control: "$host" was expanded to the request's host.
        assert box.run('curl -s http://127.0.0.1:18083/1').stdout == b'/srv/127.0.0.1'
    finally:
        box.run('nginx -c /var/tmp/ngx/nginx.conf -s stop', check=False)


# --- systemd ---------------------------------------------------------------------------------------------------------

def test_systemd_reads_every_argument_and_value_back(box):
    pairs = [(v, a) for v, a in accepted(_quote.systemd_exec_arg) if v]
    values = dict(accepted(_quote.systemd_value))
    units = []
    for index, (value, arg) in enumerate(pairs):
        description = values.get(value, 'plain')
        units.append(('opsnotes-diff-%d.service' % index, value, description,
                      '[Unit]\nDescription=%s\n\n[Service]\nType=oneshot\nExecStart=/usr/bin/printf %%%%s %s\n'
                      'StandardOutput=truncate:/var/tmp/sd/out_%d\n'
                      % (_quote.systemd_value(description) if description != 'plain' else 'plain', arg, index)))
    # Negative control: an unquoted argument, as the VIP unit had it, with a newline that adds a directive.
    naive = ('[Unit]\nDescription=naive\n\n[Service]\nType=oneshot\nExecStart=/usr/bin/printf %%s %s\n'
             'StandardOutput=truncate:/var/tmp/sd/naive\n' % '/x\nExecStartPost=/usr/bin/touch /var/tmp/sd/pwned')
    for name, _value, _description, text in units:
        box.write('/etc/systemd/system/' + name, text)
    box.write('/etc/systemd/system/opsnotes-diff-naive.service', naive)
    box.run('mkdir -p /var/tmp/sd && systemctl daemon-reload')
    box.run('systemd-analyze verify /etc/systemd/system/opsnotes-diff-[0-9]*.service')
    box.run('for u in /etc/systemd/system/opsnotes-diff-[0-9]*.service; do systemctl start "$(basename $u)"; done')
    for index, (name, value, description, _text) in enumerate(units):
        assert box.run('cat /var/tmp/sd/out_%d' % index).stdout == value.encode('utf-8'), name
        if description != 'plain' and description.strip(' \t'):     # an empty Description= unsets it
            shown = box.run('systemctl show -p Description --value %s' % name).stdout.decode('utf-8')
            assert shown.rstrip('\n') == description.strip(' \t'), name     # systemd trims blanks at the ends
    box.run('systemctl start opsnotes-diff-naive.service', check=False)
    assert box.run('test -e /var/tmp/sd/pwned', check=False).returncode == 0


def test_the_vip_unit_replays_the_record_at_every_accepted_path(box):
    """lvs_dr_config's boot unit for VIP records with hostile names: systemd-analyze accepts each unit, and each one,
    started, finds its record (ConditionPathExists=) and replays it with ip -force -batch (ExecStart=), so the VIP
    is on lo afterwards. Negative control: the same unit with the path as it is, unquoted."""
    names = [v for v, _r in accepted(lambda v: _lvs_dr.render_vip_unit(_quote.abs_path('/var/tmp/vip/' + v), 'x'))
             if v and '/' not in v and v not in ('.', '..')][:40]
    assert len(names) > 20 and any(' ' in n for n in names) and any('%' in n for n in names)
    for index, name in enumerate(names):
        path = '/var/tmp/vip/' + name
        box.write(path, 'address replace 192.0.2.%d/32 dev lo\n' % (index + 1))
        box.write('/etc/systemd/system/opsnotes-vip-%d.service' % index, _lvs_dr.render_vip_unit(path, 'x'))
    box.run('systemctl daemon-reload && systemd-analyze verify /etc/systemd/system/opsnotes-vip-*.service')
    box.run('for i in $(seq 0 %d); do systemctl start opsnotes-vip-$i.service; done' % (len(names) - 1))
    held = box.run('ip -o address show dev lo').stdout.decode()
    for index, name in enumerate(names):
        assert ' 192.0.2.%d/32 ' % (index + 1) in held, name
    blank = next(i for i, n in enumerate(names) if ' ' in n)
    naive = _lvs_dr.render_vip_unit('/var/tmp/vip/' + names[blank], 'x').replace(
        _quote.systemd_exec_arg('/var/tmp/vip/' + names[blank]), '/var/tmp/vip/' + names[blank])
    box.run('ip address del 192.0.2.%d/32 dev lo' % (blank + 1))
    box.write('/etc/systemd/system/opsnotes-vip-naive.service', naive)
    box.run('systemctl daemon-reload && systemctl start opsnotes-vip-naive.service', check=False)
    assert ' 192.0.2.%d/32 ' % (blank + 1) not in box.run('ip -o address show dev lo').stdout.decode()


def test_systemd_run_reads_every_listed_path_back(box):
    """The renewal runs under systemd-run with ReadWritePaths= from systemd_run_word: with /etc, /usr and /var
    read-only (ProtectSystem=strict), the process can write into exactly the directories with hostile names."""
    names = [v for v, _s in accepted(lambda v: _quote.systemd_run_word(_quote.abs_path('/var/tmp/sr/' + v)))
             if '/' not in v and v not in ('.', '..')][:120]
    assert len(names) > 60
    paths = ['/var/tmp/sr/' + name for name in names]
    box.write('/var/tmp/sr-paths.json', json.dumps(paths))
    box.run("python3 -c 'import json, os; [os.makedirs(p, exist_ok=True) for p in json.load(open(\"/var/tmp/sr-paths.json\"))]'")
    writer = ("python3 -c 'import json, sys\nfor p in json.load(open(\"/var/tmp/sr-paths.json\")):\n"
              "    open(p + \"/ok\", \"w\").write(p)'")

    def run(rendered):
        return box.run('systemd-run --wait --pipe --quiet --collect --property=ProtectSystem=strict %s %s'
                       % (shlex.quote('--property=ReadWritePaths=' + rendered), writer), check=False)
    proc = run(' '.join(_quote.systemd_run_word('-' + path) for path in paths))
    assert proc.returncode == 0, proc.stderr
    written = json.loads(box.run("python3 -c 'import json; print(json.dumps([open(p + \"/ok\").read() for p in "
                                 "json.load(open(\"/var/tmp/sr-paths.json\"))]))'").stdout)
    assert written == paths
    # Negative control: the paths joined as they are, unquoted. A name with a blank becomes two other paths: a
    # relative one systemd-run refuses, or (with each half absolute) a writer failing on the read-only system.
    blank = [path for path in paths if ' ' in path and not set('"\'\\') & set(path)]
    assert blank
    box.write('/var/tmp/sr-paths.json', json.dumps(blank))
    proc = run(' '.join('-' + path for path in blank))
    assert proc.returncode != 0, proc.stderr
    assert b'Invalid ReadWritePaths' in proc.stderr or b'Read-only file system' in proc.stderr, proc.stderr


# --- keepalived -----------------------------------------------------------------------------------------------------

ARGV_DUMP = """#!/usr/bin/python3
import json, sys
with open('/run/opsnotes-argv/' + sys.argv[1], 'w') as handle:
    json.dump(sys.argv[2:], handle)
"""


def keepalived_scripts(groups, render):
    """A keepalived.conf whose vrrp_scripts run the argument dumper with each group of words (``render``: argv ->
    the script string), tracked by one VRRP instance on a VIP nobody uses."""
    lines = ['global_defs {', '  enable_script_security', '  script_user root', '}']
    for index, words in enumerate(groups):
        script = render(['/usr/local/bin/opsnotes-argv', str(index)] + words)
        lines += ['vrrp_script s%d {' % index, '  script %s' % script, '  interval 60', '}']
    lines += ['vrrp_instance vi {', '  state BACKUP', '  interface eth0', '  virtual_router_id 51', '  priority 100',
              '  virtual_ipaddress {', '    192.0.2.251/32 dev eth0', '  }', '  track_script {']
    lines += ['    s%d' % index for index in range(len(groups))] + ['  }', '}']
    return '\n'.join(lines) + '\n'


def keepalived_argv(box, config, count):
    """keepalived --config-test on ``config``; when it passes, keepalived runs it and each script's arguments are
    read back. Returns (config-test return code, [argv per script] or None)."""
    box.write('/etc/keepalived/keepalived.conf', config)
    rc = box.run('keepalived --config-test', check=False).returncode
    if rc != 0:
        return rc, None
    box.run('rm -rf /run/opsnotes-argv && mkdir -p /run/opsnotes-argv && systemctl restart keepalived')
    try:
        for _second in range(30):
            done = box.run('ls /run/opsnotes-argv | wc -l').stdout.decode().strip()
            if int(done) >= count:
                break
            time.sleep(0.5)
        return rc, [json.loads(box.run('cat /run/opsnotes-argv/%d' % index).stdout) for index in range(count)]
    finally:
        box.run('systemctl stop keepalived', check=False)


def test_keepalived_reads_every_script_word_back(box):
    """Each word of a script (keepalived runs it without a shell) comes back byte for byte as one argument, from a
    configuration keepalived --config-test accepts. Refused: a double quote, a single quote and a backslash, which
    keepalived 2.1 and 2.2 unescape twice and 2.3 once (no spelling reads back the same on every version)."""
    words = [value for value, _rendered in accepted(lambda v: _keepalived.script_words(['/bin/true', v]))]
    assert len(words) > 60
    assert not [v for v in words if set(v) & set('"\'\\')]
    box.write('/usr/local/bin/opsnotes-argv', ARGV_DUMP)
    box.run('chmod 755 /usr/local/bin/opsnotes-argv')
    groups = [words[start:start + 20] for start in range(0, len(words), 20)]
    rc, argv = keepalived_argv(box, keepalived_scripts(groups, _keepalived.script_words), len(groups))
    assert rc == 0
    assert argv == groups
    # Negative control: the words joined as they are inside the double quotes. keepalived splits a word with a blank
    # in two (or drops an empty one): the arguments differ.
    naive = groups
    rc, argv = keepalived_argv(box, keepalived_scripts(naive, lambda argv: '"%s"' % ' '.join(argv)), len(naive))
    assert rc != 0 or argv != naive


def test_keepalived_accepts_the_vrrp_options_and_labels_the_address(box):
    """track_interface, garp_master_delay, accept, smtp_alert and a VIP's dev and label, as rendered: keepalived
    --config-test accepts them, and as MASTER it adds the labelled address with its label (the control: the address
    without one has none)."""
    config = dict(vrrp_instances=[dict(
        name='VI_OPT', interface='eth0', virtual_router_id=52, priority=150, advert_int=1,
        track_interfaces=[dict(name='lo', weight=-30)], garp_master_delay=1, accept=True,
        smtp_alert=True, virtual_ipaddresses=['192.0.2.240/24', dict(address='192.0.2.241/24', label='eth0:opt'),
                                              dict(address='192.0.2.242/24', dev='eth0', label='eth0')])])
    assert _keepalived.lint(config)[0] == []
    box.write('/etc/keepalived/keepalived.conf', _keepalived.render(config))
    box.run('keepalived --config-test')
    box.run('systemctl restart keepalived')
    try:
        for _second in range(30):
            addresses = box.run('ip -o -4 address show dev eth0').stdout.decode()
            if '192.0.2.241/24' in addresses:
                break
            time.sleep(0.5)
        # ip -o ends each address's first line with a backslash before its lifetimes.
        words = {line.split()[3]: line.replace('\\', ' ').split() for line in addresses.splitlines() if ' inet ' in line}
        assert 'eth0:opt' in words['192.0.2.241/24'], addresses
        assert 'eth0:opt' not in words['192.0.2.240/24'] and '192.0.2.242/24' in words, addresses
    finally:
        box.run('systemctl stop keepalived', check=False)
