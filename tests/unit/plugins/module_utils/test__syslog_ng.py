# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import copy

import pytest

from ansible_collections.opsnotes.edge.plugins.module_utils import _syslog_ng as m
from ansible_collections.opsnotes.edge.plugins.module_utils._quote import Unsafe

CLIENT = dict(
    file_sources=[dict(name='s_access', path='/srv/www/logs/access.log', program_override='app.example.org')],
    network_destinations=[dict(name='d_collector', host='logs.example.org', port=6514, time_reopen=2,
                               disk_buffer=dict(disk_buf_size=10485760, mem_buf_size=1000, dir='/var/lib/sng'))],
    log_paths=[dict(sources=['s_access', 's_src'], destinations=['d_collector'], flags=['flow-control'])],
    external_sources=['s_src'],
)
COLLECTOR = dict(
    network_sources=[dict(name='s_net', port=6514), dict(name='s_tls', transport='tls', port=6515, protocol='syslog',
                                                         tls=dict(key_file='/k.pem', cert_file='/c.pem',
                                                                  peer_verify='optional-untrusted'))],
    templates=[dict(name='t_access', template='${HOUR}:${MIN}:${SEC} ${HOST} ${PROGRAM} ${MSG}\\n')],
    filters=[dict(name='f_app', expression='program("app.example.org")')],
    file_destinations=[dict(name='d_prog', path='/var/log/remote/$PROGRAM/$YEAR$MONTH$DAY/access_log',
                            template='t_access', create_dirs=True, owner='www-data', group='adm', perm='0640',
                            dir_owner='root', dir_group='adm', dir_perm='750')],
    log_paths=[dict(sources=['s_net', 's_tls'], filters=['f_app'], destinations=['d_prog'], flags=['final'])],
)


def test_macros():
    assert m.macros('/x/$PROGRAM/${YEAR}$MONTH/${R_DAY}') == {'PROGRAM', 'YEAR', 'MONTH', 'R_DAY'}
    assert m.uses_program('${PROGRAM}') and not m.uses_program('$PROGRAMX') and not m.uses_program(None)


def test_no_parse_default_follows_program_override():
    assert m.no_parse({'program_override': 'x'}) is True
    assert m.no_parse({}) is False
    assert m.no_parse({'program_override': 'x', 'no_parse': False}) is False
    assert m.no_parse({'no_parse': True}) is True


def test_valid_configs_lint_clean_and_render():
    assert m.lint(CLIENT) == ([], [])
    assert m.lint(COLLECTOR) == ([], [])
    client = m.render(CLIENT, 'managed')
    assert client.splitlines() == [
        '# managed',
        'source s_access { file("/srv/www/logs/access.log" follow-freq(1) program-override("app.example.org") '
        'flags(no-parse)); };',
        'destination d_collector { network("logs.example.org" port(6514) transport("tcp") time-reopen(2) '
        'disk-buffer(reliable(yes) disk-buf-size(10485760) mem-buf-size(1000) dir("/var/lib/sng"))); };',
        'log { source(s_access); source(s_src); destination(d_collector); flags(flow-control); };',
    ]
    collector = m.render(COLLECTOR)
    assert 'template t_access { template("${HOUR}:${MIN}:${SEC} ${HOST} ${PROGRAM} ${MSG}\\n"); };' in collector
    assert 'filter f_app { program("app.example.org"); };' in collector
    assert 'source s_net { network(ip("0.0.0.0") port(6514) transport("tcp")); };' in collector
    assert ('source s_tls { syslog(ip("0.0.0.0") port(6515) transport("tls") tls(key-file("/k.pem") '
            'cert-file("/c.pem") peer-verify(optional-untrusted))); };') in collector
    assert ('destination d_prog { file("/var/log/remote/$PROGRAM/$YEAR$MONTH$DAY/access_log" create-dirs(yes) '
            'owner("www-data") group("adm") dir-owner("root") dir-group("adm") perm(0640) dir-perm(0750) '
            'template(t_access)); };') in collector
    assert 'log { source(s_net); source(s_tls); filter(f_app); destination(d_prog); flags(final); };' in collector


def test_inline_template_is_quoted_and_no_parse_can_be_turned_off():
    config = copy.deepcopy(COLLECTOR)
    config['file_destinations'][0]['template'] = '$MSG\\n'
    assert 'template("$MSG\\n")' in m.render(config)
    config = dict(file_sources=[dict(name='s', path='/a', program_override='p', no_parse=False, multi_line_mode='indented',
                                     persist_name='s_a', follow_freq=5)])
    assert m.render(config).splitlines()[0] == ('source s { file("/a" follow-freq(5) program-override("p") '
                                                'multi-line-mode(indented) persist-name("s_a")); };')


def test_unused_objects_are_warnings():
    config = dict(file_sources=[dict(name='s_lonely', path='/a', program_override='p')])
    assert m.lint(config) == ([], ['s_lonely is defined but no log path uses it'])


def errors_of(config):
    return m.lint(config)[0]


@pytest.mark.parametrize('change, message', [
    (lambda c: c['file_sources'][0].update(program_override='app\x00'),
     "syslog_ng_file_sources[0].program_override: 'app\\x00' must not contain a NUL character"),
    (lambda c: c['file_sources'][0].update(program_override='my app'),
     "syslog_ng_file_sources[0].program_override: 'my app' must be one word"),
    (lambda c: c['file_sources'][0].update(program_override='a/b'),
     "syslog_ng_file_sources[0].program_override: 'a/b' must be one word"),
    (lambda c: c['file_sources'][0].update(path='var/log/x'),
     "syslog_ng_file_sources[0].path: 'var/log/x' must be an absolute path"),
    (lambda c: c['file_sources'][0].update(path='/x/../y'), "syslog_ng_file_sources[0].path: '/x/../y' must be a normalised"),
    (lambda c: c['file_sources'][0].update(path='/x\ny'), "syslog_ng_file_sources[0].path: '/x\\ny' must not contain a line"),
    (lambda c: c['file_sources'][0].update(no_parse='yes'), "syslog_ng_file_sources[0].no_parse: 'yes' must be true or false"),
    (lambda c: c['file_sources'][0].update(name='1bad'), "syslog_ng_file_sources[0].name: '1bad' must be 1-64 characters"),
    (lambda c: c['file_sources'][0].update(follow_freq=0), 'syslog_ng_file_sources[0].follow_freq: 0 must be an integer'),
    (lambda c: c['file_sources'][0].update(multi_line_mode='x'), "multi_line_mode: 'x' must be one of indented"),
    (lambda c: c['file_sources'][0].update(persist_name='a b'), "persist_name: 'a b' must be a simple name"),
    (lambda c: c['file_sources'].append(dict(name='s_two', path='/srv/www/logs/access.log', program_override='p')),
     "syslog_ng_file_sources[1].path: '/srv/www/logs/access.log' is already read by syslog_ng_file_sources[0]"),
    (lambda c: c['network_destinations'][0].update(host='evil" host'),
     "syslog_ng_network_destinations[0].host: 'evil\" host' is not a host name"),
    (lambda c: c['network_destinations'][0].update(port=0), 'syslog_ng_network_destinations[0].port: 0 must be an integer'),
    (lambda c: c['network_destinations'][0].pop('port'), 'syslog_ng_network_destinations[0].port: is required'),
    (lambda c: c['network_destinations'][0].update(transport='sctp'), "transport: 'sctp' must be one of tcp, udp, tls"),
    (lambda c: c['network_destinations'][0].update(transport='tls'), 'syslog_ng_network_destinations[0].tls: is required'),
    (lambda c: c['network_destinations'][0].update(tls={}), 'syslog_ng_network_destinations[0].tls: is only used'),
    (lambda c: c['network_destinations'][0].update(time_reopen=-1), 'time_reopen: -1 must be an integer'),
    (lambda c: c['network_destinations'][0]['disk_buffer'].update(disk_buf_size=1000),
     'disk_buffer.disk_buf_size: 1000 must be an integer from 1048576'),
    (lambda c: c['network_destinations'][0].update(disk_buffer='big'), 'disk_buffer: must be a dict'),
    (lambda c: c['network_destinations'][0].update(template='\x00'), "template: '\\x00' must not contain a NUL"),
    (lambda c: c['network_destinations'][0].update(
        host='::1%lo" port(514)); }; destination d_x { program("touch /tmp/x"); }; log { source(s_app); '
             'destination(d_x); }; destination d_pad { network("::1'),
     "syslog_ng_network_destinations[0].host: '::1%lo\" port(514)); }; destination d_x { program(\"touch /tmp/x\"); "),
    (lambda c: c['network_destinations'][0].update(host='::1%lo\nport(1)'), "syslog_ng_network_destinations[0].host: "),
    (lambda c: c['network_destinations'][0].update(host='fe80::1%eth0'), "host: 'fe80::1%eth0' is not a host name"),
    (lambda c: c['log_paths'][0].update(sources=['s_nope']), "syslog_ng_log_paths[0].sources[0]: 's_nope' is not defined"),
    (lambda c: c['log_paths'][0].update(destinations=[]), 'syslog_ng_log_paths[0].destinations: needs at least one name'),
    (lambda c: c['log_paths'][0].update(filters='f'), 'syslog_ng_log_paths[0].filters: must be a list of names'),
    (lambda c: c['log_paths'][0].update(flags=['fast']), "syslog_ng_log_paths[0].flags[0]: 'fast' must be one of"),
    (lambda c: c.update(external_sources=['s_access']), "syslog_ng_external_sources[0]: 's_access' is also defined"),
    (lambda c: c.update(external_sources=['a b']), "syslog_ng_external_sources[0]: 'a b' is not an object name"),
    (lambda c: c.update(log_paths='x'), "syslog_ng_log_paths: must be a list, got 'x'"),
    (lambda c: c.update(file_sources=['x']), "syslog_ng_file_sources[0]: must be a dict, got 'x'"),
])
def test_client_errors(change, message):
    config = copy.deepcopy(CLIENT)
    change(config)
    errors = errors_of(config)
    assert any(message in e for e in errors), errors


@pytest.mark.parametrize('change, message', [
    (lambda c: c['file_destinations'][0].update(perm='0999'), "syslog_ng_file_destinations[0].perm: '0999' must be"),
    (lambda c: c['file_destinations'][0].update(perm=420), 'perm: 420 must be an octal mode string such as "0644" (quote'),
    (lambda c: c['file_destinations'][0].update(owner='root;'), "syslog_ng_file_destinations[0].owner: 'root;' is not a"),
    (lambda c: c['file_destinations'][0].update(create_dirs='yes'), "create_dirs: 'yes' must be true or false"),
    (lambda c: c['templates'][0].update(template='x\x00y'), "syslog_ng_templates[0].template: 'x\\x00y' must not contain a NUL"),
    (lambda c: c['templates'].append(dict(name='t_access', template='x')),
     "syslog_ng_templates[1].name: 't_access' is already defined (syslog_ng_templates[0])"),
    (lambda c: c['filters'][0].update(expression='level(info); }; destination d { file("/x") }'),
     'syslog_ng_filters[0].expression: \'level(info); }; destination'),
    (lambda c: c['filters'][0].update(expression=''), 'syslog_ng_filters[0].expression: is required'),
    (lambda c: c['network_sources'][0].update(ip='any'), "syslog_ng_network_sources[0].ip: 'any' is not a valid IP"),
    (lambda c: c['network_sources'][0].update(ip='::1%lo" port(514)); }; destination d_x { program("touch /tmp/x'),
     "syslog_ng_network_sources[0].ip: '::1%lo\" port(514)); }; destination d_x { program(\"touch /tmp/x' is not a bare"),
    (lambda c: c['network_sources'][0].update(ip='::1%lo"; touch x'), "ip: '::1%lo\"; touch x': the scope after \"%\" must be"),
    (lambda c: c['network_sources'][0].update(ip='::1%lo\nx'), "syslog_ng_network_sources[0].ip: '::1%lo\\nx': the scope"),
    (lambda c: c['network_sources'][0].update(port=70000), 'syslog_ng_network_sources[0].port: 70000 must be'),
    (lambda c: c['network_sources'][0].update(max_connections=0), 'max_connections: 0 must be an integer'),
    (lambda c: c['network_sources'][1]['tls'].pop('key_file'), 'syslog_ng_network_sources[1].tls: a listener needs'),
    (lambda c: c['network_sources'][1]['tls'].update(peer_verify='maybe'), "peer_verify: 'maybe' must be one of"),
    (lambda c: c['network_sources'][1]['tls'].update(ca_dir='certs'), "tls.ca_dir: 'certs' must be an absolute path"),
])
def test_collector_errors(change, message):
    config = copy.deepcopy(COLLECTOR)
    change(config)
    errors = errors_of(config)
    assert any(message in e for e in errors), errors


def test_quotes_line_ends_and_backticks_are_escaped_not_refused():
    config = copy.deepcopy(COLLECTOR)
    config['templates'][0]['template'] = '$ISODATE $HOST $MSG\n'            # a real newline, from YAML "...\n"
    config['file_destinations'][0]['path'] = '/var/log/a "b" \\c `d`/$PROGRAM.log'
    assert m.lint(config)[0] == []
    text = m.render(config)
    assert 'template("$ISODATE $HOST $MSG\\n")' in text
    assert 'file("/var/log/a \\"b\\" \\\\c ``d``/$PROGRAM.log"' in text
    # The user's own syslog-ng escapes in a template are kept; a backslash that starts none is a backslash.
    assert m.syslog_ng_template('${MSG}\\n\\t\\q') == '"${MSG}\\n\\t\\\\q"'


def test_the_program_trap_both_ways():
    config = copy.deepcopy(COLLECTOR)
    config['file_sources'] = [dict(name='s_plain', path='/var/log/a.log'),
                              dict(name='s_raw', path='/var/log/b.log', no_parse=True)]
    config['log_paths'] = [dict(sources=['s_plain', 's_raw'], destinations=['d_prog'])]
    errors = errors_of(config)
    assert errors == [
        'syslog_ng_log_paths[0]: destination d_prog uses $PROGRAM but file source s_plain has no program_override and '
        'parses each line as syslog, so its first field is eaten as $PROGRAM: set program_override on s_plain',
        'syslog_ng_log_paths[0]: destination d_prog uses $PROGRAM but file source s_raw has no program_override and '
        'reads with no-parse, so $PROGRAM is empty: set program_override on s_raw',
    ]
    # The same sources into a destination that does not split by program are fine.
    config['file_destinations'][0].update(path='/var/log/all.log', template='$MSG\\n')
    assert errors_of(config) == []


def test_persist_name_allows_a_second_source_on_one_file():
    config = copy.deepcopy(CLIENT)
    config['file_sources'].append(dict(name='s_two', path='/srv/www/logs/access.log', program_override='p',
                                       persist_name='s_two'))
    config['log_paths'][0]['sources'].append('s_two')
    assert errors_of(config) == []


class Cmd(object):
    def __init__(self, rc, out='', err=''):
        self.rc, self.out, self.err, self.calls = rc, out, err, []

    def run_command(self, argv):
        self.calls.append(argv)
        return self.rc, self.out, self.err


def test_syntax_check_drops_the_capability_warning():
    module = Cmd(1, err="syslog-ng: Error setting capabilities, capability management disabled\nError parsing config\n")
    assert m.syntax_check(module, '/usr/sbin/syslog-ng', '/etc/x.conf') == (False, 'Error parsing config')
    assert module.calls == [['/usr/sbin/syslog-ng', '--syntax-only', '--cfgfile=/etc/x.conf']]
    assert m.syntax_check(Cmd(0), 'syslog-ng', '/x') == (True, '')


def test_daemon_running():
    assert m.daemon_running(Cmd(0), '/usr/sbin/syslog-ng-ctl') is True
    assert m.daemon_running(Cmd(1), '/usr/sbin/syslog-ng-ctl') is False
    assert m.daemon_running(Cmd(0), None) is False


def test_syntax_hint_names_only_an_option_the_release_lacks():
    config = dict(network_destinations=[dict(name='d_a', time_reopen=5), dict(name='d_b'), 'not a dict'])
    hint = m.syntax_hint('Error parsing afsocket, syntax error, unexpected KW_TIME_REOPEN in x.conf:3:93', config)
    assert 'remove time_reopen from network_destinations[0] (role variable syslog_ng_network_destinations)' in hint
    assert m.syntax_hint('Error parsing config, syntax error in x.conf:3:1', config) == ''
    assert 'from network_destinations (role' in m.syntax_hint('unexpected KW_TIME_REOPEN', {})


def test_template_backticks_keep_their_meaning_and_the_empty_template_is_valid():
    assert m.syslog_ng_template('${MSG} `log-suffix` ``x``\\n') == '"${MSG} `log-suffix` ``x``\\n"'
    assert m.syslog_ng_template('') == '""'
    for bad in ('a`b', '`a b`', 'x ``` y'):
        with pytest.raises(Unsafe, match='has a backtick that starts no reference'):
            m.syslog_ng_template(bad)
    # Control: in a value (not a template) a backtick is data, doubled so syslog-ng reads one.
    assert m.syslog_ng_string('a`b`') == '"a``b``"'
    config = copy.deepcopy(COLLECTOR)
    config['templates'][0]['template'] = ''
    assert m.lint(config)[0] == []
    assert 'template %s { template(""); };' % config['templates'][0]['name'] in m.render(config)


def test_render_records_the_variable_of_each_line_and_locate_names_it():
    config = dict(templates=[dict(name='t_a', template='$MSG\n'), dict(name='t_b', template='$(nosuch)\n')],
                  filters=[dict(name='f_a', expression='level(err)')],
                  file_sources=[dict(name='s_a', path='/var/log/a.log')],
                  file_destinations=[dict(name='d_a', path='/var/log/b.log', template='t_b')],
                  log_paths=[dict(sources=['s_a'], filters=['f_a'], destinations=['d_a'])])
    sources = {}
    text = m.render(config, 'one\ntwo', sources)
    lines = text.splitlines()
    assert sources == {3: 'syslog_ng_templates[0]', 4: 'syslog_ng_templates[1]', 5: 'syslog_ng_filters[0]',
                       6: 'syslog_ng_file_sources[0]', 7: 'syslog_ng_file_destinations[0]', 8: 'syslog_ng_log_paths[0]'}
    assert lines[3].startswith('template t_b') and lines[7].startswith('log {')
    assert text == m.render(config, 'one\ntwo')                        # the same text, with or without sources
    out = ('Error parsing config, Error compiling template, error=Unknown template function "nosuch" in '
           '/etc/syslog-ng/conf.d/x.conf:4:24-4:46:\n  in /etc/syslog-ng/syslog-ng.conf:2:1')
    located = m.locate(out, '/etc/syslog-ng/conf.d/x.conf', sources)
    assert '/etc/syslog-ng/conf.d/x.conf:4:24-4:46 (syslog_ng_templates[1]):' in located
    assert located.endswith('/etc/syslog-ng/syslog-ng.conf:2:1')      # another file's place is left as it is
