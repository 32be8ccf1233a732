# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import grp
import os
import re
import stat

from ansible.module_utils import basic

from ansible_collections.opsnotes.edge.plugins.modules import haproxy_config

CONFIG = dict(frontends=[dict(name='fe', bind=['*:80'], default_backend='be')],
              backends=[dict(name='be', servers=[dict(name='s1', address='10.0.0.1', port=80)])])


class Commands(object):
    """haproxy -c and systemctl, recording calls; -c fails when the file holds 'badness'."""

    def __init__(self, active=True, reload_rc=0, config_dir=None):
        self.calls, self.active, self.reload_rc, self.config_dir = [], active, reload_rc, config_dir

    def __call__(self, argv, **kwargs):
        name = os.path.basename(argv[0])
        self.calls.append([name] + argv[1:])
        if name == 'haproxy':
            staged = argv[3]
            # Staged in a private directory outside the configuration tree, never next to the live file.
            assert os.path.basename(os.path.dirname(staged)).startswith('opsnotes-haproxy-')
            if self.config_dir:
                assert not staged.startswith(str(self.config_dir))
            text = open(staged).read()
            lines = text.splitlines()
            bad = [number for number, line in enumerate(lines, 1) if 'badness' in line]
            odd = [number for number, line in enumerate(lines, 1) if 'req.len' in line]
            # The map files the staged copy names (as HAProxy opens them): they must exist, and 'badness' in one
            # fails the check as a bad entry would.
            self.maps_seen = {}
            for number, line in enumerate(lines, 1):
                for ref in re.findall(r'(/[^ ,)"]*/maps/[^ ,)"]+)', line):
                    if not os.path.isfile(ref):
                        return 1, '', '[ALERT] parsing [%s:%d] : failed to open pattern file <%s>' % (staged, number, ref)
                    self.maps_seen[ref] = open(ref).read()
                    if 'badness' in self.maps_seen[ref]:
                        return 1, '', '[ALERT] parsing [%s:%d] : bad entry in <%s>' % (staged, number, ref)
            if bad:
                return 1, '', '[ALERT] parsing [%s:%d] : unknown keyword' % (staged, bad[0])
            # As HAProxy 2.6 to 3.2 warn: the state file before the first reload, and an L6 fetch in an http proxy.
            warned = "[WARNING]  (77) : config : config: Can't open global server state file '/x': No such file\n"
            warned += ''.join("[WARNING]  (77) : config : Proxy 'fe': L6 sample fetches ignored on HTTP proxies "
                              '(declared at %s:%d).\n' % (staged, number) for number in odd)
            return 0, 'Configuration file is valid\n', warned
        if argv[1] == 'is-active':
            return (0 if self.active else 3), '', ''
        if argv[1] == 'reload':
            return self.reload_rc, '', 'Job failed' if self.reload_rc else ''
        raise AssertionError(argv)


def args(tmp_path, fake, config=None):
    cfg = dict(config or CONFIG)
    cfg['global'] = dict(stats_socket=fake.path if fake else str(tmp_path / 'none.sock'),
                         state_file=str(tmp_path / 'state'))
    return dict(config=cfg, path=str(tmp_path / 'haproxy.cfg'), header='managed', maps_dir=str(tmp_path / 'maps'))


def test_validates_saves_state_swaps_reloads_then_idempotent(run_module, tmp_path, fake_haproxy):
    commands = Commands()
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy), run_command=commands)
    assert not failed and result['changed'] and result['validated'] and result['state_saved'] and result['reloaded']
    assert (tmp_path / 'haproxy.cfg').read_text() == result['content']
    assert 'www1' in (tmp_path / 'state').read_text()            # runtime state saved before the reload
    assert [c[:2] for c in commands.calls] == [['haproxy', '-c'], ['systemctl', 'is-active'], ['systemctl', 'reload']]
    assert sorted(os.listdir(tmp_path)) == ['admin.sock', 'haproxy.cfg', 'state']
    assert stat.S_IMODE((tmp_path / 'haproxy.cfg').stat().st_mode) == 0o644
    commands = Commands()
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy), run_command=commands)
    assert not result['changed'] and commands.calls == []


def test_state_is_saved_through_the_socket_of_the_running_config(run_module, tmp_path, fake_haproxy):
    (tmp_path / 'haproxy.cfg').write_text('global\n    stats socket %s mode 660 level admin\n' % fake_haproxy.path)
    config = args(tmp_path, None)     # the new config names another socket, which does not exist yet
    result, failed = run_module(haproxy_config, config, run_command=Commands())
    assert result['state_saved'] and result['reloaded']


def test_a_server_whose_port_changes_is_left_out_of_the_saved_state(run_module, tmp_path, fake_haproxy):
    """HAProxy applies a saved row's address and port over the configuration's: www2 moving to port 80 (as when a
    backend moves to a PROXY protocol port) would keep 8080 after the reload. Its row is not saved; www1's is."""
    config = dict(frontends=[dict(name='fe', bind=['*:80'], default_backend='be_www')],
                  backends=[dict(name='be_www', servers=[dict(name='www1', address='10.0.0.1', port=8080),
                                                         dict(name='www2', address='10.0.0.2', port=80)])])
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands())
    assert not failed and result['state_saved'] and result['reloaded']
    assert result['state_dropped'] == ['be_www/www2: 10.0.0.2:8080 is now 10.0.0.2:80']
    saved = (tmp_path / 'state').read_text()
    assert ' be_www 1 www1 10.0.0.1 ' in saved and ' www2 ' not in saved and saved.startswith('1\n# be_id ')


def test_invalid_config_changes_nothing(run_module, tmp_path, fake_haproxy, monkeypatch):
    monkeypatch.setattr(haproxy_config, 'render', lambda config, header, *sources: '\n\nbadness\n')
    commands = Commands()
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy), run_command=commands)
    assert failed and result['msg'].startswith('the new configuration fails haproxy -c; nothing was changed')
    assert str(tmp_path / 'haproxy.cfg') + ':3]' in result['msg']           # the live path, not the staged one
    assert not (tmp_path / 'haproxy.cfg').exists() and ['systemctl', 'reload', 'haproxy.service'] not in commands.calls


def test_haproxy_s_refusal_names_the_variable_its_line_comes_from(run_module, tmp_path, fake_haproxy):
    """A fetch the lint cannot know (any name is passed to HAProxy): haproxy -c refuses the line, and the message
    names the rule's variable."""
    config = dict(frontends=[dict(name='fe', bind=['*:80'], default_backend='be',
                                  http_request=[dict(action='deny', cond='{ src 10.0.0.0/8 }'),
                                                dict(action='deny', cond='{ badness_fetch -m found }')])],
                  backends=[dict(name='be', servers=[dict(name='s', address='10.0.0.1', port=80)])])
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands())
    assert failed and '] (haproxy_frontends[0].http_request[1]) : unknown keyword' in result['msg'], result['msg']
    assert not (tmp_path / 'haproxy.cfg').exists()


def test_failed_reload_restores_the_previous_file(run_module, tmp_path, fake_haproxy):
    (tmp_path / 'haproxy.cfg').write_text('# previous\n')
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy), run_command=Commands(reload_rc=1))
    assert failed and result['msg'] == 'systemctl reload haproxy.service failed (Job failed); the previous file was restored'
    assert not result['changed']
    assert (tmp_path / 'haproxy.cfg').read_text() == '# previous\n'


def test_not_running_writes_without_reload(run_module, tmp_path):
    commands = Commands(active=False)
    result, failed = run_module(haproxy_config, args(tmp_path, None), run_command=commands)
    assert not failed and result['changed'] and not result['reloaded'] and not result['state_saved']


def test_failed_reload_without_a_previous_file_says_so(run_module, tmp_path, fake_haproxy):
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy), run_command=Commands(reload_rc=1))
    assert failed and 'the new file was removed (there was no previous one)' in result['msg']
    assert not (tmp_path / 'haproxy.cfg').exists()


def test_check_mode_validates_only_and_writes_nothing(run_module, tmp_path, fake_haproxy):
    before = sorted(os.listdir(tmp_path))
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy),
                                run_command=Commands(config_dir=tmp_path), check_mode=True)
    assert result['changed'] and result['validated'] and not (tmp_path / 'haproxy.cfg').exists()
    assert sorted(os.listdir(tmp_path)) == before
    assert 'frontend fe' in result['diff']['after']


USERS = dict(CONFIG, userlists=[dict(name='admins', users=[dict(name='ops', password='$6$salt$secrethash')])])


def test_userlist_hashes_are_redacted_and_the_file_is_not_world_readable(
        run_module, tmp_path, fake_haproxy, monkeypatch):
    group = grp.getgrgid(os.getgid()).gr_name      # the module uses group haproxy, which this host may lack
    monkeypatch.setattr(haproxy_config, 'file_mode', lambda config: (0o640, group) if config.get('userlists')
                        else (0o644, None))
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, USERS), run_command=Commands())
    assert not failed, result
    assert 'secrethash' not in str(result) and 'user ops password <redacted>' in result['content']
    assert 'user ops password $6$salt$secrethash' in (tmp_path / 'haproxy.cfg').read_text()
    assert stat.S_IMODE((tmp_path / 'haproxy.cfg').stat().st_mode) == 0o640
    # An unchanged file with looser permissions is repaired, and that is a change.
    os.chmod(str(tmp_path / 'haproxy.cfg'), 0o644)
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, USERS), run_command=Commands())
    assert result['changed'] and stat.S_IMODE((tmp_path / 'haproxy.cfg').stat().st_mode) == 0o640
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, USERS), run_command=Commands())
    assert not result['changed']


def test_lint_errors_fail_first(run_module, tmp_path):
    bad = dict(CONFIG, frontends=[dict(name='fe', bind=['*:80'], default_backend='nope')])
    commands = Commands()
    result, failed = run_module(haproxy_config, args(tmp_path, None, bad), run_command=commands)
    assert failed and "haproxy_frontends[0].default_backend: backend 'nope' is not defined" in result['msg']
    assert commands.calls == []


def tls_setup(run_module, tmp_path, fake):
    """A configuration with one TLS certificate file, installed and loaded by the fake HAProxy."""
    import pki
    key = pki.key('ecdsa')
    cert = pki.cert(key, 'www.example.test', names=['www.example.test'])
    pem = tmp_path / 'www.pem'
    pem.write_text(pki.pem(cert) + pki.key_pem(key))
    config = dict(CONFIG, frontends=[dict(name='fe', bind=['*:80'], tls_bind=['*:443'], tls_certificates=[str(pem)],
                                          default_backend='be')])
    result, failed = run_module(haproxy_config, args(tmp_path, fake, config), run_command=Commands())
    assert not failed and result['reloaded'] and result['certificates'] == []   # the reload loads the files
    fake.load_certificate(str(pem), pem.read_text())
    renewed = pki.cert(key, 'www.example.test', names=['www.example.test'])
    return config, pem, key, cert, renewed


def test_a_renewed_certificate_file_is_swapped_in_without_a_reload(run_module, tmp_path, fake_haproxy):
    import pki
    from cryptography.hazmat.primitives import hashes
    config, pem, key, cert, renewed = tls_setup(run_module, tmp_path, fake_haproxy)
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands())
    assert not failed and not result['changed'] and not result['certificates'][0]['swapped']
    assert result['certificates'][0]['served_serial'] == '%X' % cert.serial_number
    pem.write_text(pki.pem(renewed) + pki.key_pem(key))
    # Check mode says it would swap, and swaps nothing.
    commands = Commands()
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=commands, check_mode=True)
    assert result['changed'] and result['certificates'][0]['swapped']
    assert not any(c.startswith(('set ', 'commit ')) for c in fake_haproxy.commands)
    # The real run: set + commit over the socket, no reload.
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=commands)
    assert not failed and result['changed'] and not result['reloaded']
    entry = result['certificates'][0]
    assert entry['swapped'] and entry['served_serial'] == '%X' % renewed.serial_number
    assert entry['file_fingerprint'] == renewed.fingerprint(hashes.SHA1()).hex().upper() != entry['served_fingerprint']
    assert ['systemctl', 'reload', 'haproxy.service'] not in commands.calls
    # Runs 1 and 2 (check mode) only read; run 3 reads, swaps, and reads what is served now.
    assert [c.split()[0] for c in fake_haproxy.commands if ' ssl cert ' + str(pem) in c] == [
        'show', 'show', 'show', 'set', 'commit', 'show']
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands())
    assert not result['changed']


def test_a_stale_transaction_of_ours_is_aborted_and_a_foreign_one_stops_the_swap(run_module, tmp_path, fake_haproxy):
    import pki
    config, pem, key, cert, renewed = tls_setup(run_module, tmp_path, fake_haproxy)
    pem.write_text(pki.pem(renewed) + pki.key_pem(key))
    fake_haproxy.transaction = ('/etc/haproxy/other.pem', 'x')
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands())
    assert failed and 'transaction open for /etc/haproxy/other.pem' in result['msg']
    fake_haproxy.transaction = (str(pem), 'half of an interrupted run')
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands())
    assert not failed and result['certificates'][0]['served_serial'] == '%X' % renewed.serial_number


def test_a_file_whose_key_is_not_the_certificates_fails_and_the_old_one_stays_served(run_module, tmp_path, fake_haproxy):
    import pki
    config, pem, key, cert, renewed = tls_setup(run_module, tmp_path, fake_haproxy)
    pem.write_text(pki.pem(renewed) + pki.key_pem(pki.key('ecdsa')))
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands())
    assert failed and 'hot swap of the certificates failed: commit ssl cert' in result['msg']
    assert fake_haproxy.transaction is None
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands(), check_mode=True)
    assert result['certificates'][0]['served_serial'] == '%X' % cert.serial_number
    pem.write_text('not a certificate')
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands())
    assert failed and 'holds no PEM certificate' in result['msg']


def test_a_certificate_haproxy_does_not_hold_means_another_configuration_runs(run_module, tmp_path, fake_haproxy):
    config, pem, _key, _cert, _renewed = tls_setup(run_module, tmp_path, fake_haproxy)
    fake_haproxy.certs.clear()          # the running process loaded a configuration without this file
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands())
    assert failed and result['msg'].startswith('HAProxy holds no certificate for %s' % pem)
    assert 'it runs another configuration than the file' in result['msg']


def test_a_changed_trust_store_reloads_haproxy_and_then_nothing(run_module, tmp_path, fake_haproxy):
    # HAProxy reads the CA files its servers verify against at start only: a CA added to the trust store (a private
    # CA's new root) would never reach server verification, and the servers it signs would stay DOWN.
    import pki
    old_root, new_root = pki.key('ecdsa'), pki.key('ecdsa')
    old_ca = pki.cert(old_root, 'Old Root', ca=True)
    new_ca = pki.cert(new_root, 'New Root', ca=True)
    bundle = tmp_path / 'ca.pem'
    bundle.write_text(pki.pem(old_ca))
    config = dict(CONFIG, backends=[dict(name='be', servers=[
        dict(name='s1', address='10.0.0.1', port=443, ssl=True, ca_file=str(bundle)),
        dict(name='s2', address='10.0.0.2', port=443, ssl=True, ssl_verify=False)])])
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands())
    assert not failed and result['reloaded']
    fake_haproxy.load_ca_file(str(bundle), bundle.read_text())
    commands = Commands()
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=commands)
    assert not failed and not result['changed'] and result['ca_files_stale'] == [] and not result['reloaded']
    assert ['systemctl', 'reload', 'haproxy.service'] not in commands.calls
    bundle.write_text(pki.pem(old_ca) + pki.pem(new_ca))
    # Check mode says it would reload, and does not.
    commands = Commands()
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=commands,
                                check_mode=True)
    assert not failed and result['changed'] and result['ca_files_stale'] == [str(bundle)] and not result['reloaded']
    assert ['systemctl', 'reload', 'haproxy.service'] not in commands.calls
    # A refused reload fails, naming the file; the running HAProxy is left as it was.
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands(reload_rc=1))
    assert failed and 'the trust of %s changed' % bundle in result['msg'] and 'Job failed' in result['msg']
    # The real run: the server state saved, then one reload, which loads the file again.
    commands = Commands()
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=commands)
    assert not failed and result['changed'] and result['reloaded'] and result['state_saved']
    assert result['ca_files_stale'] == [str(bundle)] and 'www1' in (tmp_path / 'state').read_text()
    assert commands.calls.count(['systemctl', 'reload', 'haproxy.service']) == 1
    fake_haproxy.load_ca_file(str(bundle), bundle.read_text())
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands())
    assert not failed and not result['changed'] and not result['reloaded']
    # A CA taken out of the store counts too.
    bundle.write_text(pki.pem(new_ca))
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands(),
                                check_mode=True)
    assert result['changed'] and result['ca_files_stale'] == [str(bundle)]


def map_config(tmp_path, hosts, blocked=None):
    """A configuration whose backend comes from a map, and whose ACL reads a pattern file (when ``blocked``)."""
    maps = [dict(name='hosts.map', entries=hosts)]
    frontend = dict(name='fe', bind=['*:80'], default_backend='be',
                    use_backend=[dict(backend='%%[req.hdr(host),lower,map(%s/hosts.map,be)]' % (tmp_path / 'maps'))])
    if blocked is not None:
        maps.append(dict(name='blocked.lst', entries=blocked))
        frontend['acls'] = [dict(name='blocked', criterion='path_beg', flags=['-f %s/blocked.lst' % (tmp_path / 'maps')])]
        frontend['http_request'] = [dict(action='deny', cond='blocked')]
    return dict(maps=maps, frontends=[frontend], backends=CONFIG['backends'])


def test_map_files_are_checked_staged_then_swapped_in_with_the_configuration(run_module, tmp_path, fake_haproxy):
    commands = Commands()
    config = map_config(tmp_path, {'www.example.org': 'be', '#hash': 'be x'}, ['/admin', '/a b '])
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=commands)
    assert not failed and result['changed'] and result['reloaded'], result
    hosts = (tmp_path / 'maps' / 'hosts.map').read_text()
    assert hosts == '# managed\nwww.example.org be\n #hash be x\n'
    assert (tmp_path / 'maps' / 'blocked.lst').read_text() == '# managed\n/admin\n/a b \n'
    # haproxy -c read the staged copies, in its private directory, never the live files.
    assert sorted(commands.maps_seen.values()) == sorted([hosts, '# managed\n/admin\n/a b \n'])
    assert all('opsnotes-haproxy-' in ref for ref in commands.maps_seen)
    assert sorted(result['maps_changed']) == sorted(str(tmp_path / 'maps' / n) for n in ('hosts.map', 'blocked.lst'))
    assert [d['after_header'] for d in result['diff']][1:] == result['maps_changed']
    again, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands())
    assert not failed and not again['changed'] and again['maps_changed'] == []


def test_a_map_change_alone_is_checked_and_reloads(run_module, tmp_path, fake_haproxy):
    run_module(haproxy_config, args(tmp_path, fake_haproxy, map_config(tmp_path, {'a.example': 'be'})), run_command=Commands())
    live = (tmp_path / 'haproxy.cfg').read_text()
    commands = Commands()
    config = map_config(tmp_path, {'a.example': 'be', 'b.example': 'be'})
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=commands, check_mode=True)
    assert not failed and result['changed'] and result['validated'] and not result['reloaded']
    assert 'b.example' not in (tmp_path / 'maps' / 'hosts.map').read_text()           # check mode writes nothing
    assert any('b.example be' in text for text in commands.maps_seen.values())        # but checked the new file
    commands = Commands()
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=commands)
    assert not failed and result['changed'] and result['reloaded'] and result['state_saved']
    assert ['systemctl', 'reload', 'haproxy.service'] in commands.calls
    assert (tmp_path / 'haproxy.cfg').read_text() == live
    assert (tmp_path / 'maps' / 'hosts.map').read_text().endswith('a.example be\nb.example be\n')


def test_a_bad_map_changes_nothing(run_module, tmp_path, fake_haproxy):
    run_module(haproxy_config, args(tmp_path, fake_haproxy, map_config(tmp_path, {'a.example': 'be'})), run_command=Commands())
    before = (tmp_path / 'maps' / 'hosts.map').read_text()
    commands = Commands()
    config = map_config(tmp_path, {'a.example': 'badness'})
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=commands)
    assert failed and 'nothing was changed' in result['msg'] and str(tmp_path / 'maps' / 'hosts.map') in result['msg']
    assert 'opsnotes-haproxy-' not in result['msg']                                    # the live path in the message
    assert '(haproxy_frontends[0].use_backend[0])' in result['msg']
    assert (tmp_path / 'maps' / 'hosts.map').read_text() == before
    assert ['systemctl', 'reload', 'haproxy.service'] not in commands.calls


def test_a_failed_reload_puts_the_configuration_and_the_maps_back(run_module, tmp_path, fake_haproxy):
    run_module(haproxy_config, args(tmp_path, fake_haproxy, map_config(tmp_path, {'a.example': 'be'})), run_command=Commands())
    cfg, hosts = (tmp_path / 'haproxy.cfg').read_text(), (tmp_path / 'maps' / 'hosts.map').read_text()
    config = map_config(tmp_path, {'b.example': 'be'}, ['/admin'])
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands(reload_rc=1))
    assert failed and not result['changed']
    assert result['msg'] == ('systemctl reload haproxy.service failed (Job failed); the previous file was restored, '
                             'and the map files as they were')
    assert (tmp_path / 'haproxy.cfg').read_text() == cfg and (tmp_path / 'maps' / 'hosts.map').read_text() == hosts
    assert not (tmp_path / 'maps' / 'blocked.lst').exists()


def test_a_map_no_longer_listed_is_removed_only_when_this_module_wrote_it(run_module, tmp_path, fake_haproxy):
    config = map_config(tmp_path, {'a.example': 'be'}, ['/admin'])
    run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands())
    (tmp_path / 'maps' / 'own.map').write_text('# an operator\'s file\nx y\n')
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, map_config(tmp_path, {'a.example': 'be'})),
                                run_command=Commands())
    assert not failed and result['changed'] and result['maps_changed'] == [str(tmp_path / 'maps' / 'blocked.lst')]
    assert sorted(os.listdir(tmp_path / 'maps')) == ['hosts.map', 'own.map']


def test_a_reference_to_a_map_the_change_removes_fails_the_check(run_module, tmp_path, fake_haproxy):
    config = map_config(tmp_path, {'a.example': 'be'}, ['/admin'])
    run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands())
    config['maps'] = config['maps'][:1]                  # blocked.lst is dropped, the ACL still reads it
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands())
    assert failed and 'failed to open pattern file <%s>' % (tmp_path / 'maps' / 'blocked.lst') in result['msg']
    assert (tmp_path / 'maps' / 'blocked.lst').exists()


def test_map_entries_haproxy_would_read_otherwise_are_refused_before_anything(run_module, tmp_path):
    config = map_config(tmp_path, {'two words': 'be', 'k': ' padded'})
    result, failed = run_module(haproxy_config, args(tmp_path, None, config), run_command=Commands())
    assert failed and 'haproxy_maps[0].entries' in result['msg'] and 'one word' in result['msg']
    assert not (tmp_path / 'maps').exists() and not (tmp_path / 'haproxy.cfg').exists()


def test_haproxy_s_warnings_name_their_variable_and_reach_the_task(run_module, tmp_path, fake_haproxy, monkeypatch):
    """A rule HAProxy accepts but ignores (an L6 fetch in an http frontend's tcp-request content) passes haproxy -c
    with a warning: the result and the task's warnings name the rule's variable; the state file's is left out."""
    warned = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, text: warned.append(text))
    config = dict(frontends=[dict(name='fe', bind=['*:80'], default_backend='be',
                                  tcp_request=[dict(phase='inspect-delay', args='5s'),
                                               dict(phase='content', action='accept', cond='{ req.len gt 0 }')])],
                  backends=CONFIG['backends'])
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy, config), run_command=Commands())
    assert not failed and result['validated'] and result['changed']
    path = str(tmp_path / 'haproxy.cfg')
    assert len(result['warnings_haproxy']) == 1, result['warnings_haproxy']
    warning = result['warnings_haproxy'][0]
    assert warning.startswith("Proxy 'fe': L6 sample fetches ignored on HTTP proxies (declared at %s:" % path)
    assert warning.endswith(' (haproxy_frontends[0].tcp_request[1])).'), warning
    assert warned == ['haproxy -c: ' + warning]
    # Control: without the rule, no warning.
    result, failed = run_module(haproxy_config, args(tmp_path, fake_haproxy), run_command=Commands())
    assert not failed and result['warnings_haproxy'] == [] and warned == ['haproxy -c: ' + warning]
