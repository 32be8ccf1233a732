# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The site's verify report: one row per host and check from the roles' public results, and the cross-host
judgements (one VRRP holder, ARP answered by a director only, the served serial found in a certificate file)."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.opsnotes.edge.plugins.filter.verify import (
    FilterModule,
    verify_report,
    verify_rows,
    verify_stats,
)

DIRECTOR_MAC = '02:42:ac:1d:d5:0a'
RS1_MAC = '02:42:AC:1D:D5:0B'
GROUPS = dict(all=['director', 'director2', 'rs1', 'client', 'collector', 'localhost'],
              lvs_directors=['director', 'director2'], lvs_realservers=['rs1'], lvs_clients=['client'],
              haproxy=['director', 'director2'], web=['rs1'], log_collectors=['collector'], log_clients=['rs1'])


def lvs(mac, vips):
    return dict(ok=True, problems=[], drift=[], sysctls=['a', 'b', 'c'], vips=vips, boot_files=['/etc/sysctl.d/90.conf'],
                effective=[dict(name='eth0', hwaddr=mac), dict(name='lo', hwaddr='00:00:00:00:00:00')])


def vrrp(state, held, priority):
    return dict(ok=True, problems=[], failures=[], instances=[dict(
        name='VI_1', state=state, held=held, vips=['172.29.213.200'], effective_priority=priority)])


def timer(active='active', result='success', exited='Sun 2026-11-22 10:00:00 UTC', issuer=None, profiles=None):
    state = dict(timer=dict(ActiveState=active, NextElapseUSecRealtime='Mon 2026-11-23 03:00:00 UTC'),
                 service=dict(Result=result, ExecMainExitTimestamp=exited))
    if issuer:
        state['issuer'] = issuer
    if profiles is not None:
        state['profiles'] = profiles
    return state


def policy(name_key, name, ok=True):
    return {name_key: name, 'ok': ok, 'summary': 'intermediate: compliant' if ok else 'intermediate: TLS 1.0 accepted',
            'address': '127.0.0.1:443', 'server_name': 'www.lab.test'}


def fleet():
    """The results of a green lab, as the roles' verify steps and the verify play's probes keep them."""
    return {
        'director': dict(
            lvs_dr_check=lvs(DIRECTOR_MAC, []), keepalived_check=vrrp('MASTER', ['172.29.213.200'], 150),
            haproxy_check=dict(syntax_ok=True, ok=True, problems=[], down=[], errors=[], frontends=['www'], backends=['web'],
                               tls=[dict(frontend='www', bind=':443', key_type='ecdsa', cert='/etc/haproxy/www.pem',
                                         serial='ABC1', days_left=89, problems=[], lifetime_hours=160,
                                         renew_at='2026-12-24T08:00:00Z', renewal_by='ari',
                                         ari_window=dict(start='2026-12-24T00:00:00Z', end='2026-12-25T00:00:00Z'),
                                         served=[dict(name='www.lab.test')])],
                               tls_policies=[policy('frontend', 'www')]),
            haproxy_acme_renewal_state=timer(issuer='director', profiles=['tlsserver']),
            oom_protect_check=dict(status='ok', unprotected=[], targets=[dict(processes=[1, 2]), dict(processes=[3])])),
        'director2': dict(lvs_dr_check=lvs('02:42:ac:1d:d5:0c', []), keepalived_check=vrrp('BACKUP', [], 100)),
        'rs1': dict(
            lvs_dr_check=lvs(RS1_MAC, ['172.29.213.200']),
            syslog_ng_check=dict(syntax_ok=True, ok=True, running=True),
            nginx_acme_check=dict(
                certificates=dict(certificates=[dict(name='www', key_type='rsa', key='/etc/ssl/www.key', cert='/c/www',
                                                     serial='dd02', days_left=60, chain_length=2, problems=[],
                                                     lifetime_hours=2160, renew_at='2027-01-05T10:00:00Z',
                                                     renewal_by='lifetime', ari_window=None),
                                                # The bundle nginx loads, after the fullchain: a row of its own.
                                                dict(name='www', key_type='rsa', cert='/c/rsa.pem', serial='dd02',
                                                     key='/etc/ssl/www.key',
                                                     days_left=60, chain_length=2, problems=[])],
                                  policies=[policy('name', 'www')]),
                # Entries of acme_certificate_check's challenges (the role's one proof call).
                challenge=[dict(ok=True, name='www', thumbprint='0123456789ab', domains=[dict(domain='www.lab.test')])],
                dry_run=[dict(ok=True, name='www', thumbprint='0123456789ab',
                              domains=[dict(domain='www.lab.test', stateless=[1, 2, 3, 4])])]),
            nginx_acme_renewal_state=timer(issuer='director'),
            oom_protect_check=dict(status='limited', targets=[],
                                   unprotected=[dict(comm='syslog-ng', expected=-900, reason='EACCES: no capability'),
                                                dict(comm='nginx', expected=-500, reason='EACCES: no capability')])),
        'client': dict(
            verify_arp=dict(results=[dict(item='172.29.213.200', stdout='Unicast reply from 172.29.213.200 [%s] 0.1ms'
                                          % DIRECTOR_MAC.upper())]),
            verify_requests=dict(results=[dict(
                url='https://www.lab.test/', ok=True, status=200, peer='172.29.213.200:443', body='rs1\nmore',
                item=dict(url='https://www.lab.test/', address='172.29.213.200', log_program='nginx'),
                tls=dict(verified=True, version='TLSv1.3', subject='www.lab.test', serial='abc1',
                         policy=policy('name', 'www.lab.test')))])),
        'collector': dict(
            syslog_ng_check=dict(syntax_ok=True, ok=True, running=True),
            verify_log_received=dict(probe=dict(ok=True, path='/var/log/remote/rs1.log', latency=0.4)),
            verify_request_logs=dict(results=[dict(item=dict(item=dict(log_program='nginx')),
                                                   probe=dict(ok=True, marker='m-1', path='/var/log/remote/rs1.log',
                                                              latency=0.6, client='172.29.213.50'))])),
        'localhost': {},
    }


def rows_by_check(hostvars, groups=None):
    return {(r['host'], r['check']): r for r in verify_rows(hostvars, groups or GROUPS)}


def test_a_green_fleet_has_every_row_ok_or_limited_in_the_report_order():
    rows = verify_rows(fleet(), GROUPS)
    assert [(r['host'], r['check'], r['state']) for r in rows] == [
        ('director', 'lvs_dr_check', 'OK'), ('director2', 'lvs_dr_check', 'OK'), ('rs1', 'lvs_dr_check', 'OK'),
        ('director', 'keepalived_check', 'OK'), ('director2', 'keepalived_check', 'OK'), ('director', 'vrrp VI_1', 'OK'),
        ('client', 'arp 172.29.213.200', 'OK'),
        ('client', 'request www.lab.test', 'OK'), ('client', 'tls policy www.lab.test', 'OK'),
        ('client', 'served at 172.29.213.200', 'OK'),
        ('director', 'oom_score', 'OK'), ('rs1', 'oom_score', 'LIMITED'),
        ('collector', 'syslog_ng_check', 'OK'), ('collector', 'log probe', 'OK'), ('collector', 'access log nginx', 'OK'),
        ('rs1', 'syslog_ng_check', 'OK'),
        ('director', 'haproxy_check', 'OK'), ('director', 'tls www :443 ecdsa', 'OK'), ('director', 'tls policy www', 'OK'),
        ('rs1', 'acme challenge www', 'OK'), ('rs1', 'acme dry-run www', 'OK'), ('rs1', 'certificate www rsa', 'OK'),
        ('rs1', 'certificate www rsa (rsa.pem)', 'OK'), ('rs1', 'tls policy www', 'OK'),
        ('director', 'acme renewal timer', 'OK'), ('rs1', 'acme renewal timer', 'OK'),
    ]
    by = {(r['host'], r['check']): r for r in rows}
    assert by[('director', 'lvs_dr_check')]['detail'] == (
        '3 sysctl keys, 2 interfaces, 0 VIP(s) as expected, now and at boot (1 sysctl.d file(s))')
    assert by[('director', 'vrrp VI_1')]['detail'] == (
        '172.29.213.200 held by director (MASTER, priority 150); director2 BACKUP')
    assert by[('client', 'arp 172.29.213.200')]['detail'] == 'VIP 172.29.213.200 answered by director (%s)' % DIRECTOR_MAC
    assert by[('client', 'request www.lab.test')]['detail'] == (
        '200 via 172.29.213.200:443, TLS TLSv1.3 verified for www.lab.test: rs1')
    assert by[('client', 'served at 172.29.213.200')]['detail'] == (
        'serial abc1 for www.lab.test, the file director:/etc/haproxy/www.pem')
    assert by[('rs1', 'oom_score')]['detail'] == 'syslog-ng wants -900, nginx wants -500: EACCES: no capability'
    assert by[('collector', 'access log nginx')]['detail'] == (
        'the line of request m-1 arrived in /var/log/remote/rs1.log after 0.6s, naming the client 172.29.213.50')
    assert by[('rs1', 'acme dry-run www')]['detail'] == (
        "www.lab.test: 4 random tokens answered <token>.01234567... through the CA's path")
    assert by[('director', 'tls www :443 ecdsa')]['detail'] == (
        '/etc/haproxy/www.pem: serial ABC1 held and served to ECDSA-only clients for www.lab.test, 89 days left of a '
        "160-hour lifetime, renewal from 2026-12-24T08:00:00Z in the CA's ARI window (2026-12-24T00:00:00Z to "
        '2026-12-25T00:00:00Z)')
    # The fullchain's row says its lifetime and when its renewal is due; the bundle's, without them, does not.
    assert by[('rs1', 'certificate www rsa')]['detail'] == (
        '/etc/ssl/www.key, 60 days left of a 90-day lifetime, renewal from 2027-01-05T10:00:00Z by lifetime, '
        'chain of 2 valid, served to RSA-only clients')
    assert by[('rs1', 'certificate www rsa (rsa.pem)')]['detail'] == (
        '/etc/ssl/www.key, 60 days left, chain of 2 valid, served to RSA-only clients')
    assert by[('rs1', 'acme renewal timer')]['detail'] == (
        'fetches its certificates from director (after boot and hourly); timer active, next Mon 2026-11-23 03:00:00 '
        'UTC; last run Sun 2026-11-22 10:00:00 UTC: success')
    assert by[('director', 'acme renewal timer')]['detail'].startswith(
        "orders its certificates under the CA's profile tlsserver; timer active")
    # The check column is as wide as its longest name (at least 27), in every line alike.
    width = max([27] + [len(check) for _host, check in by])
    assert width > 27
    assert by[('director', 'lvs_dr_check')]['line'] == '%-12s %-*s %-7s %s' % (
        'director', width, 'lvs_dr_check', 'OK', by[('director', 'lvs_dr_check')]['detail'])


def test_a_real_server_answering_arp_for_the_vip_is_a_hijack():
    hosts = fleet()
    hosts['client']['verify_arp']['results'][0]['stdout'] += '\nUnicast reply from 172.29.213.200 [%s]' % RS1_MAC
    row = rows_by_check(hosts)[('client', 'arp 172.29.213.200')]
    assert row['state'] == 'DRIFT'
    assert row['detail'] == ('VIP 172.29.213.200 answered by director (%s), rs1 (%s): only a director may answer '
                             '(VIP hijack)' % (DIRECTOR_MAC, RS1_MAC.lower()))


def test_no_arp_answer_and_an_unknown_mac_are_drift():
    hosts = fleet()
    hosts['client']['verify_arp']['results'][0]['stdout'] = 'Sent 3 probes, Received 0 responses'
    assert rows_by_check(hosts)[('client', 'arp 172.29.213.200')]['detail'] == (
        'VIP 172.29.213.200 answered by nobody: only a director may answer (VIP hijack)')
    hosts['client']['verify_arp']['results'][0]['stdout'] = 'reply [02:00:00:00:00:99]'
    row = rows_by_check(hosts)[('client', 'arp 172.29.213.200')]
    assert row['state'] == 'DRIFT' and 'unknown host (02:00:00:00:00:99)' in row['detail']


def test_two_directors_holding_the_vip_or_none_are_drift():
    hosts = fleet()
    hosts['director2']['keepalived_check'] = vrrp('MASTER', ['172.29.213.200'], 100)
    row = rows_by_check(hosts)[('-', 'vrrp VI_1')]
    assert row['state'] == 'DRIFT'
    assert row['detail'] == ('172.29.213.200 held by director and director2 (MASTER, priority 150/100); no peer: '
                             'exactly one director must hold it')
    hosts['director']['keepalived_check'] = vrrp('BACKUP', [], 150)
    hosts['director2']['keepalived_check'] = vrrp('BACKUP', [], 100)
    row = rows_by_check(hosts)[('-', 'vrrp VI_1')]
    assert row['state'] == 'DRIFT' and row['detail'].startswith('172.29.213.200 held by nobody; director BACKUP')


def test_failed_checks_show_their_own_reasons():
    hosts = fleet()
    hosts['rs1']['lvs_dr_check'] = dict(ok=False, problems=['arp_ignore on eth0 is 0, expected 1', 'VIP missing'],
                                        effective=[])
    hosts['director']['haproxy_check'].update(ok=False, problems=['frontend www: no bind'], down=['web/rs1'])
    hosts['director']['haproxy_check']['tls'][0]['problems'] = ['serial held ABC0, file ABC1']
    hosts['director']['keepalived_check'] = dict(ok=False, problems=['VI_1: still INIT after 15s'], instances=[])
    hosts['rs1']['syslog_ng_check'] = dict(syntax_ok=False, ok=False, running=False, syntax_output='line 3: error',
                                           problems=['syntax check failed: line 3: error',
                                                     'syslog-ng is not running (syslog-ng-ctl stats failed)'])
    hosts['collector']['verify_log_received']['probe'] = dict(ok=False, reason='no line after 20s')
    hosts['director']['haproxy_acme_renewal_state'] = timer(active='inactive', exited='n/a')
    rows = rows_by_check(hosts)
    assert rows[('rs1', 'lvs_dr_check')]['detail'] == 'arp_ignore on eth0 is 0, expected 1; VIP missing'
    assert rows[('director', 'haproxy_check')]['detail'] == 'frontend www: no bind; servers DOWN: web/rs1'
    assert rows[('director', 'tls www :443 ecdsa')]['detail'] == 'serial held ABC0, file ABC1'
    assert rows[('director', 'keepalived_check')]['detail'] == 'VI_1: still INIT after 15s'
    assert rows[('rs1', 'syslog_ng_check')]['detail'] == ('syntax check failed: line 3: error; syslog-ng is not running '
                                                          '(syslog-ng-ctl stats failed)')
    assert rows[('collector', 'log probe')]['detail'] == 'no line after 20s'
    assert rows[('director', 'acme renewal timer')]['detail'].endswith('; never ran')
    for key in [('rs1', 'lvs_dr_check'), ('director', 'haproxy_check'), ('director', 'tls www :443 ecdsa'),
                ('director', 'keepalived_check'), ('rs1', 'syslog_ng_check'), ('collector', 'log probe'),
                ('director', 'acme renewal timer')]:
        assert rows[key]['state'] == 'DRIFT', key


def test_all_servers_up_is_required_even_when_the_configuration_is_valid():
    hosts = fleet()
    hosts['director']['haproxy_check']['down'] = ['web/rs2']
    row = rows_by_check(hosts)[('director', 'haproxy_check')]
    assert row['state'] == 'DRIFT' and row['detail'] == 'servers DOWN: web/rs2'


def test_down_servers_the_check_counted_itself_are_named_once():
    hosts = fleet()
    hosts['director']['haproxy_check'].update(ok=False, down=['web/rs2'], problems=['servers DOWN: web/rs2'])
    row = rows_by_check(hosts)[('director', 'haproxy_check')]
    assert row['state'] == 'DRIFT' and row['detail'] == 'servers DOWN: web/rs2'


def test_a_served_serial_in_no_certificate_file_is_drift():
    hosts = fleet()
    hosts['client']['verify_requests']['results'][0]['tls']['serial'] = 'FF'
    row = rows_by_check(hosts)[('client', 'served at 172.29.213.200')]
    assert row['state'] == 'DRIFT'
    assert row['detail'] == 'serial FF for www.lab.test is in no certificate file of the balancers or web hosts'
    # The web host's own file counts as well as a balancer's.
    hosts['client']['verify_requests']['results'][0]['tls']['serial'] = 'DD02'
    assert rows_by_check(hosts)[('client', 'served at 172.29.213.200')]['detail'].endswith('the file rs1:/c/rsa.pem')


def test_a_failed_request_reports_its_reason_and_a_request_without_address_is_named_by_its_host():
    hosts = fleet()
    hosts['client']['verify_requests']['results'][0].update(ok=False, reason='connection refused', tls={})
    del hosts['client']['verify_requests']['results'][0]['item']['address']
    rows = rows_by_check(hosts)
    assert rows[('client', 'request www.lab.test')]['detail'] == 'connection refused'
    assert ('client', 'served at 172.29.213.200') not in rows
    hosts['client']['verify_requests']['results'][0].update(ok=True, body='', tls=dict(serial='abc1', subject='x'))
    rows = rows_by_check(hosts)
    assert rows[('client', 'request www.lab.test')]['detail'] == '200 via 172.29.213.200:443: (empty body)'
    assert rows[('client', 'served at www.lab.test')]['state'] == 'OK'


def test_a_lvs_dr_host_without_a_result_is_drift_and_other_checks_without_one_have_no_row():
    hosts = fleet()
    del hosts['rs1']['lvs_dr_check']
    del hosts['director']['haproxy_check']
    del hosts['rs1']['nginx_acme_check']
    rows = rows_by_check(hosts)
    assert rows[('rs1', 'lvs_dr_check')]['state'] == 'DRIFT'
    assert rows[('rs1', 'lvs_dr_check')]['detail'] == 'no result (host unreachable or check not run)'
    assert not [key for key in rows if key[1] in ('haproxy_check', 'acme challenge www', 'certificate www rsa')]
    hosts['rs1']['lvs_dr_check'] = dict(failed=True, msg='interface eth9 missing')
    assert rows_by_check(hosts)[('rs1', 'lvs_dr_check')]['detail'] == 'interface eth9 missing'


def test_a_host_with_both_acme_timers_has_a_row_per_role_and_skipped_results_are_no_rows():
    hosts = fleet()
    hosts['rs1']['haproxy_acme_renewal_state'] = timer(result='exit-code')
    groups = copy.deepcopy(GROUPS)
    groups['haproxy'].append('rs1')
    hosts['rs1']['nginx_acme_check']['challenge'] = [dict(skipped=True, item=dict(name='www'))]
    rows = rows_by_check(hosts, groups)
    assert rows[('rs1', 'acme renewal timer (haproxy)')]['state'] == 'DRIFT'
    assert rows[('rs1', 'acme renewal timer (haproxy)')]['detail'].endswith(': exit-code')
    assert rows[('rs1', 'acme renewal timer (nginx)')]['state'] == 'OK'
    assert ('rs1', 'acme challenge www') not in rows


def test_empty_groups_make_an_empty_report_with_its_header():
    assert verify_rows({}, {}) == []
    assert verify_report([]) == '%-12s %-27s %-7s %s' % ('HOST', 'CHECK', 'STATE', 'DETAIL')


def test_the_report_is_the_header_then_each_line():
    rows = verify_rows(fleet(), GROUPS)
    text = verify_report(rows).splitlines()
    assert text[0].split() == ['HOST', 'CHECK', 'STATE', 'DETAIL']
    assert text[1:] == [r['line'] for r in rows]


def test_wrong_input_is_refused_clearly():
    with pytest.raises(AnsibleFilterError, match='hostvars'):
        verify_rows(None, GROUPS)
    with pytest.raises(AnsibleFilterError, match='hostvars'):
        verify_rows({}, ['not', 'groups'])


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {'verify_rows', 'verify_report', 'verify_stats'}


def test_the_job_artifacts_name_each_drift_and_limited_row_and_count_every_state():
    green = verify_stats(verify_rows(fleet(), GROUPS))
    assert green['ok'] is True and green['drift'] == [] and green['counts']['DRIFT'] == 0
    assert green['counts']['OK'] + green['counts']['LIMITED'] == len(verify_rows(fleet(), GROUPS))
    rows = [dict(host='rs1', check='lvs_dr_check', state='DRIFT', detail='arp_ignore is 0, expected 1', line='x'),
            dict(host='rs1', check='oom_score', state='LIMITED', detail='EACCES', line='y'),
            dict(host='rs2', check='lvs_dr_check', state='OK', detail='fine', line='z')]
    stats = verify_stats(rows)
    assert stats == dict(ok=False, counts=dict(OK=1, LIMITED=1, DRIFT=1),
                         drift=[dict(host='rs1', check='lvs_dr_check', detail='arp_ignore is 0, expected 1')],
                         limited=[dict(host='rs1', check='oom_score', detail='EACCES')])
    assert verify_stats([]) == dict(ok=True, counts=dict(OK=0, LIMITED=0, DRIFT=0), drift=[], limited=[])
    with pytest.raises(AnsibleFilterError, match='verify_rows'):
        verify_stats([{'host': 'rs1'}])


def ipvs_table(*reals, drift=(), down=()):
    return dict(available=True, source='ipvsadm', drift=list(drift), down=list(down), extra=[], virtual_servers=[
        dict(protocol='TCP', address='172.29.213.201', port=443, fwmark=None, scheduler='rr', persistent=None,
             real_servers=[dict(address=a, port=443, forward='dr', weight=w, active=act, inactive=ina)
                           for a, w, act, ina in reals])])


def test_a_directors_ipvs_table_is_a_row_naming_each_real_server_by_its_host():
    hosts = fleet()
    hosts['rs1']['lab_address'] = '172.29.213.140'
    hosts['director']['keepalived_check']['ipvs'] = ipvs_table(('172.29.213.140', 1, 2, 7), ('172.29.213.99', 1, 0, 1))
    row = rows_by_check(hosts)[('director', 'ipvs 172.29.213.201:443')]
    assert row['state'] == 'OK'
    assert row['detail'] == ('TCP, rr (dr): rs1 172.29.213.140:443 weight 1, 2 active, 7 inactive; '
                             '172.29.213.99:443 weight 1, 0 active, 1 inactive')


def test_a_real_server_out_of_the_table_a_drained_one_and_a_missing_service_are_drift():
    hosts = fleet()
    hosts['director']['keepalived_check']['ipvs'] = ipvs_table(
        ('172.29.213.140', 0, 0, 3), drift=['TCP 172.29.213.201:443 -> 172.29.213.140:443: weight 0, not 1',
                                            'TCP 172.29.213.202:80: not in the table'],
        down=['TCP 172.29.213.201:443 -> 172.29.213.141:443'])
    rows = [r for r in verify_rows(hosts, GROUPS) if r['check'].startswith('ipvs')]
    assert [(r['check'], r['state']) for r in rows] == [('ipvs 172.29.213.201:443', 'DRIFT'), ('ipvs', 'DRIFT')]
    assert rows[0]['detail'].endswith('; TCP 172.29.213.201:443 -> 172.29.213.140:443: weight 0, not 1; '
                                      'TCP 172.29.213.201:443 -> 172.29.213.141:443: down (not in the table)')
    assert rows[1]['detail'] == 'TCP 172.29.213.202:80: not in the table'
    # A kernel without IPVS is one row saying so.
    hosts['director']['keepalived_check']['ipvs'] = dict(available=False, reason='this kernel has no IPVS')
    assert rows_by_check(hosts)[('director', 'ipvs')]['detail'] == 'this kernel has no IPVS'


def test_the_last_oom_kill_is_a_row_that_names_the_victim_and_the_spared_protected_units():
    hosts = fleet()
    check = hosts['director']['oom_protect_check']
    check.update(oom_kills_since_boot=2, last_oom_kill=dict(time='2026-12-06T14:10:02Z', pid=4242, comm='python3',
                                                            oom_score_adj=0, kind='system'),
                 targets=[dict(selector='unit=syslog-ng.service', expected=-900, oom_kills=0, processes=[1]),
                          dict(selector='unit=batch.service', expected=800, oom_kills=1, processes=[2])])
    row = rows_by_check(hosts)[('director', 'oom event')]
    assert row['state'] == 'OK'
    assert row['detail'] == ('last kill at 2026-12-06T14:10:02Z: python3 (pid 4242, oom_score_adj 0), 2 since boot; '
                             'protected units untouched (syslog-ng.service)')
    # A protected unit that lost a process is drift; a host whose log holds no kill has no row.
    check['targets'][0]['oom_kills'] = 1
    row = rows_by_check(hosts)[('director', 'oom event')]
    assert row['state'] == 'DRIFT' and row['detail'].endswith('protected units that lost processes to it: '
                                                              'syslog-ng.service (1)')
    assert ('director2', 'oom event') not in rows_by_check(hosts)


def test_the_oom_row_names_the_user_space_killers_and_what_they_may_still_pick():
    hosts = fleet()
    check = hosts['director']['oom_protect_check']
    check.update(active_killers=['kernel', 'earlyoom'], exposed=[])
    row = rows_by_check(hosts)[('director', 'oom_score')]
    assert row['state'] == 'OK' and row['detail'].endswith('; OOM killers: kernel, earlyoom')
    # A protected process earlyoom would not avoid: drift, with the reason; the kernel alone is not named.
    check.update(status='drift', exposed=[dict(reason='earlyoom (pid 5) would not avoid myapp (pid 9, unit=a)')])
    row = rows_by_check(hosts)[('director', 'oom_score')]
    assert row['state'] == 'DRIFT'
    assert row['detail'] == 'earlyoom (pid 5) would not avoid myapp (pid 9, unit=a); OOM killers: kernel, earlyoom'
    check.update(status='ok', exposed=[], active_killers=['kernel'])
    assert 'OOM killers' not in rows_by_check(hosts)[('director', 'oom_score')]['detail']


def test_a_second_request_to_the_same_address_adds_its_row_but_no_second_served_at_row():
    hosts = fleet()
    results = hosts['client']['verify_requests']['results']
    results.append(dict(url='https://lab.test/.git/config', ok=True, status=403, peer='172.29.213.200:443', body='',
                        item=dict(url='https://lab.test/.git/config', address='172.29.213.200', status=[403]),
                        tls=dict(verified=True, version='TLSv1.3', subject='www.lab.test', serial='ffff')))
    rows = verify_rows(hosts, GROUPS)
    assert [r['check'] for r in rows if r['check'].startswith('served at')] == ['served at 172.29.213.200']
    request = [r for r in rows if r['check'] == 'request lab.test'][0]
    assert request['state'] == 'OK' and request['detail'].startswith('403 via 172.29.213.200:443')
