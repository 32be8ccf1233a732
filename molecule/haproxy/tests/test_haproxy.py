# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""HAProxy, proven with real HTTP requests: routing, deny rules, runtime control, seamless reloads."""

from __future__ import annotations

import json
import subprocess
import time

import helpers
import pytest

LB, CLIENT = 'opsnotes-hap-lb', 'opsnotes-hap-client'
JOURNAL_HOSTS = [LB]
SOCKET = '/run/haproxy/opsnotes-admin.sock'
client = helpers.host(CLIENT)
lb = helpers.host(LB)


def get(host, path, *flags):
    """(body, status) of a request from the client; ``flags`` are literal curl options such as --path-as-is."""
    out = client.run('curl -s -m 5 -o - -w " %%{http_code}" ' + ' '.join(flags) + ' -H %s http://%s%s',
                     'Host: %s' % host, LB, path).stdout
    body, _sep, code = out.rpartition(' ')
    return body.strip(), code


def backend_of(host, path):
    body, code = get(host, path)
    assert code == '200', (host, path, body, code)
    return body.split()[0]


def runtime(args):
    return helpers.haproxy_server(LB, SOCKET, **args)


@pytest.mark.parametrize('host, path, expected', [
    ('www.example.test', '/index.html', 'www'),             # host_www
    ('WWW.Example.TEST', '/index.html', 'www'),             # -i: case-insensitive
    ('www.example.test', '/static/logo.png', 'static'),     # host_www url_static (path_beg)
    ('www.example.test', '/app.js', 'static'),              # url_static by path_end
    ('img.example.test', '/index.html', 'static'),          # host_static
    ('download.example.test', '/x', 'static'),              # host_static, other value
    ('other.test', '/static/logo.png', 'default'),          # no host match: default backend
    ('other.test', '/www-only/page', 'www'),                # anonymous ACL { path_beg /www-only/ }
])
def test_routing(host, path, expected):
    name = backend_of(host, path)
    where = {'www': ('opsnotes-hap-www1:8080', 'opsnotes-hap-www2:8080'), 'static': ('opsnotes-hap-static:8080',),
             'default': ('opsnotes-hap-static:8081',)}[expected]
    assert name in where


def test_traversal_is_denied_with_403():
    assert get('www.example.test', '/static/../etc/passwd', '--path-as-is')[1] == '403'
    assert get('www.example.test', '/static/ok.png', '--path-as-is')[1] == '200'


def test_duplicate_host_header_is_denied_with_400():
    raw = ('printf "GET / HTTP/1.1\\r\\nHost: www.example.test\\r\\nHost: evil.test\\r\\nConnection: close\\r\\n\\r\\n" '
           '| timeout 5 bash -c "exec 3<>/dev/tcp/%s/80; cat >&3; cat <&3"' % LB)
    # HAProxy 2.6 answers from the role's rule (HTTP/1.1); 2.2 refuses the request itself first (HTTP/1.0).
    assert client.run(raw).stdout.startswith(('HTTP/1.1 400', 'HTTP/1.0 400'))


def test_admin_socket_is_root_only():
    sock = lb.file(SOCKET)
    assert sock.is_socket and sock.user == 'root' and sock.mode == 0o600


def test_check_module_reports_the_live_config():
    result = helpers.ansible_host(LB).ansible('opsnotes.edge.haproxy_check', 'socket=%s' % SOCKET, check=False)
    assert result['ok'] and result['syntax_ok'] and result['errors'] == []
    fe = result['frontends'][0]
    assert fe['name'] == 'fe_web' and 'host_www' in fe['acls_used'] and fe['status'] == 'OPEN'
    www = [b for b in result['backends'] if b['name'] == 'be_www'][0]
    assert {s['name']: (s['status'], s['admin_state']) for s in www['servers']} == {
        'www1': ('UP', 'ready'), 'www2': ('UP', 'ready')}


def test_disable_stops_traffic_enable_brings_it_back_idempotently():
    result = runtime(dict(backend='be_www', server='www2', state='disabled'))
    assert result['changed'] and result['after']['state'] == 'maint'
    assert runtime(dict(backend='be_www', server='www2', state='disabled'))['changed'] is False
    try:
        assert {backend_of('www.example.test', '/') for _attempt in range(10)} == {'opsnotes-hap-www1:8080'}
    finally:
        result = runtime(dict(backend='be_www', server='www2', state='enabled'))
    assert result['changed'] and result['after']['state'] == 'ready'
    assert 'opsnotes-hap-www2:8080' in {backend_of('www.example.test', '/') for _attempt in range(10)}


def runtime_failure(args):
    """Output of an ad-hoc haproxy_server call expected to fail."""
    run = subprocess.run(['ansible', '-i', helpers.os.environ['MOLECULE_INVENTORY_FILE'], LB, '-m',
                          'opsnotes.edge.haproxy_server', '-a', args], capture_output=True, text=True, check=False)
    assert run.returncode != 0
    return run.stdout


def test_runtime_errors_are_clear():
    assert 'backend be_nope does not exist' in runtime_failure(
        'backend=be_nope server=www1 state=drain socket=%s' % SOCKET)
    assert 'server nope does not exist in backend be_www' in runtime_failure(
        'backend=be_www server=nope state=drain socket=%s' % SOCKET)
    assert 'cannot connect to the HAProxy admin socket /run/haproxy/nope.sock' in runtime_failure(
        'backend=be_www server=www1 state=drain socket=/run/haproxy/nope.sock')


def test_drain_waits_for_the_sessions_to_end():
    # weight 0 on www2 so the slow request surely lands on www1
    runtime(dict(backend='be_www', server='www2', weight=0))
    try:
        client.run('nohup curl -s -m 20 -H "Host: www.example.test" "http://%s/slow?sleep=6" >/dev/null 2>&1 &', LB)
        time.sleep(1)
        result = runtime(dict(backend='be_www', server='www1', state='drain', wait=True, wait_timeout=20))
        assert result['before']['scur'] == 1
        assert result['after']['scur'] == 0 and result['after']['state'] == 'drain'
        assert 1 <= result['waited'] <= 10      # it waited for the slow request to finish
    finally:
        runtime(dict(backend='be_www', server='www1', state='ready'))
        runtime(dict(backend='be_www', server='www2', weight=100))


def test_runtime_state_survives_a_reload():
    runtime(dict(backend='be_www', server='www1', state='maint'))
    try:
        run = helpers.ansible_playbook('molecule/haproxy/converge.yml', '-e', 'haproxy_timeout_client=50001')
        assert run.returncode == 0, run.stdout[-3000:]
        assert runtime(dict(backend='be_www', server='www1', state='maint'))['changed'] is False
        assert {backend_of('www.example.test', '/') for _attempt in range(6)} == {'opsnotes-hap-www2:8080'}
    finally:
        runtime(dict(backend='be_www', server='www1', state='ready'))
        run = helpers.ansible_playbook('molecule/haproxy/converge.yml')
    assert run.returncode == 0


# The scenario's backends (molecule.yml) with be_static's server moved from port 8080 to 8081.
MOVED = [dict(name='be_health', directives=['option httpchk GET /health', 'http-check expect string /health'],
              servers=[dict(name='health1', address='opsnotes-hap-www1', port=8080, check=True)]),
         dict(name='be_health_bad',
              directives=['option httpchk GET /health', 'http-check expect string opsnotes-never'],
              servers=[dict(name='health2', address='opsnotes-hap-www1', port=8080, check=True)]),
         dict(name='be_sticky', cookie='SRV insert indirect nocache',
              servers=[dict(name='www1', address='opsnotes-hap-www1', port=8080, check=True, cookie='w1'),
                       dict(name='www2', address='opsnotes-hap-www2', port=8080, check=True, cookie='w2')]),
         dict(name='be_static', servers=[dict(name='static1', address='opsnotes-hap-static', port=8081, check=True)]),
         dict(name='be_www', balance='roundrobin',
              servers=[dict(name='www1', address='opsnotes-hap-www1', port=8080, check=True),
                       dict(name='www2', address='opsnotes-hap-www2', port=8080, check=True, weight=100)]),
         dict(name='be_default', servers=[dict(name='default1', address='opsnotes-hap-static', port=8081, check=True)])]
DUMP_STATE = ("import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
              "s.sendall(b'show servers state\\n'); data = b''.join(iter(lambda: s.recv(65536), b'')); "
              "open(sys.argv[2], 'wb').write(data)")


def static_backends(count=6):
    return {backend_of('img.example.test', '/x') for _attempt in range(count)}


def test_a_server_moved_to_another_port_is_used_there_after_the_reload():
    """HAProxy applies a saved server state's address and port over the configuration's (haproxy/haproxy#985): a
    server moved to another port would keep the old one. The role leaves moved servers out of the state it saves,
    and keeps the others' (www1 stays in maintenance). The negative control is HAProxy's own state file with a plain
    reload: the configuration says 8080, the stale state says 8081, and traffic goes to 8081."""
    assert static_backends() == {'opsnotes-hap-static:8080'}
    runtime(dict(backend='be_www', server='www1', state='maint'))
    try:
        run = helpers.ansible_playbook('molecule/haproxy/converge.yml', '-e', json.dumps({'haproxy_backends': MOVED}))
        assert run.returncode == 0, run.stdout[-3000:]
        assert static_backends() == {'opsnotes-hap-static:8081'}
        assert runtime(dict(backend='be_www', server='www1', state='maint'))['changed'] is False
        # Negative control: the configuration back at 8080 by hand, the full saved state, a plain reload.
        lb.check_output('python3 -c %s %s /var/lib/haproxy/server-state', DUMP_STATE, SOCKET)
        lb.check_output("sed -i '/server static1 /s/:8081 /:8080 /' /etc/haproxy/haproxy.cfg"
                        " && grep -q 'server static1 opsnotes-hap-static:8080 ' /etc/haproxy/haproxy.cfg"
                        " && echo '# edited by hand' >> /etc/haproxy/haproxy.cfg && systemctl reload haproxy")
        time.sleep(1)
        assert static_backends() == {'opsnotes-hap-static:8081'}
    finally:
        runtime(dict(backend='be_www', server='www1', state='ready'))
        run = helpers.ansible_playbook('molecule/haproxy/converge.yml')
    assert run.returncode == 0, run.stdout[-3000:]
    assert static_backends() == {'opsnotes-hap-static:8080'}


def load_during(action, count, seconds):
    """Run the load client while ``action`` runs ``count`` times on the LB; returns the client's summary."""
    def act():
        for _attempt in range(count):
            lb.check_output('systemctl %s haproxy', action)
            time.sleep(0.2)
    return helpers.load_while(client, 'http://%s/' % LB, seconds, act)[1]


def test_twenty_reloads_under_load_lose_no_request():
    summary = load_during('reload', 20, 12)
    assert summary['ok'] > 100
    assert summary['failed'] == 0, summary


def test_negative_control_restarts_under_load_lose_requests():
    """The same load with restarts instead of reloads: requests fail, so the test above can fail."""
    summary = load_during('restart', 5, 8)
    assert summary['failed'] > 0, summary


def test_down_server_is_reported():
    helpers.host('opsnotes-hap-www1').check_output('systemctl stop opsnotes-echo@8080')
    try:
        deadline, down = time.time() + 30, []
        while time.time() < deadline:
            result = helpers.ansible_host(LB).ansible('opsnotes.edge.haproxy_check',
                                                      'socket=%s fail_on_down=false' % SOCKET, check=False)
            down = [d for d in result['down'] if not d.startswith('be_health')]
            if len(down) == 3:
                break
            time.sleep(1)
        # www1 serves two backends (be_www, and be_sticky of the model tests) and a listen section (li_pinned, as
        # pin1): down in the three, and only there (the model tests' health-check backends aside).
        assert down == ['be_sticky/www1', 'be_www/www1', 'li_pinned/pin1']
    finally:
        helpers.host('opsnotes-hap-www1').check_output('systemctl start opsnotes-echo@8080')


def test_a_run_limited_by_tags_validates_like_a_full_one():
    # The case: a newline in the state file path opening an admin socket to the network.
    hostile = json.dumps({'haproxy_state_file': '/var/lib/haproxy/state\nstats socket ipv4@0.0.0.0:9999 level admin'})
    message = "haproxy_state_file: '/var/lib/haproxy/state\\nstats socket ipv4@0.0.0.0:9999 level admin' must not " \
              "contain a line end"
    snapshot = 'md5sum /etc/haproxy/haproxy.cfg; ss -Hltn'
    before = lb.check_output(snapshot)
    returncode, failures = helpers.playbook_failures('molecule/haproxy/converge.yml', '--tags', 'haproxy_configure',
                                                     '-e', hostile)
    # Refused by the preflight, which always runs, before anything on the host changed.
    # (The JSON callback names role tasks 'opsnotes.edge.haproxy : <name>'.)
    assert returncode != 0 and [(h, t.split(' : ')[-1]) for h, t, _m in failures] == [
        (LB, 'Check the variables | haproxy')], failures
    assert message in failures[0][2]
    assert lb.check_output(snapshot) == before and ':9999' not in before
    # Control: with the preflight skipped by hand (--skip-tags always), the module's own lint refuses it too.
    returncode, failures = helpers.playbook_failures('molecule/haproxy/converge.yml', '--tags', 'haproxy_configure',
                                                     '--skip-tags', 'always', '-e', hostile)
    assert returncode != 0 and failures, failures
    task = failures[0][1].split(' : ')[-1]
    assert task == 'Install the validated configuration, and keep HAProxy running | haproxy', failures
    assert message in failures[0][2]
    assert lb.check_output(snapshot) == before


def test_bad_input_is_refused_before_the_host_changes():
    run = helpers.ansible_playbook('molecule/haproxy/bad_input.yml')
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
