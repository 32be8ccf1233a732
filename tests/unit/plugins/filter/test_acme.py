# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.opsnotes.edge.plugins.filter.acme import FilterModule

FILTERS = FilterModule().filters()


def test_cert_items_one_per_site_and_key_type():
    sites = [{'name': 'shop', 'domains': ['shop.test', 'www.shop.test']},
             {'name': 'blog', 'domains': ['blog.test'], 'webroot': '/srv/acme/'}]
    items = FILTERS['acme_cert_items'](sites, ['rsa', 'ecdsa'], '/etc/ssl/acme', '/var/lib/acme')
    assert [(i['name'], i['key_type']) for i in items] == [
        ('shop', 'rsa'), ('shop', 'ecdsa'), ('blog', 'rsa'), ('blog', 'ecdsa')]
    assert items[1] == dict(name='shop', key_type='ecdsa', domains=['shop.test', 'www.shop.test'],
                            webroot='/var/lib/acme', key='/etc/ssl/acme/shop/ecdsa.key',
                            csr='/etc/ssl/acme/shop/ecdsa.csr', cert='/etc/ssl/acme/shop/ecdsa.fullchain.pem',
                            profile='')
    assert items[2]['webroot'] == '/srv/acme'
    # The ACME profile: the site's, else the role's.
    sites[1]['profile'] = 'shortlived'
    assert [i['profile'] for i in FILTERS['acme_cert_items'](sites, ['rsa'], '/x', '/y', profile='tlsserver')] == [
        'tlsserver', 'shortlived']
    del sites[1]['profile']
    assert FILTERS['acme_cert_items']([], ['rsa'], '/x', '/y') == []
    assert all('bundle' not in item for item in items)
    bundled = FILTERS['acme_cert_items'](sites, ['rsa', 'ecdsa'], '/etc/ssl/acme', '/var/lib/acme', bundles=True)
    assert [i['bundle'] for i in bundled[:2]] == ['/etc/ssl/acme/shop/rsa.pem', '/etc/ssl/acme/shop/ecdsa.pem']
    assert [dict(i, bundle=None) for i in bundled] == [dict(i, bundle=None) for i in items]


def order(webroot, data):
    return {'item': {'webroot': webroot}, 'challenge_data': data, 'changed': True}


def test_http01_files_from_order_results():
    results = [
        order('/srv/a', {'b.test': {'http-01': {'resource': '.well-known/acme-challenge/tok2', 'resource_value': 'v2'}},
                         'a.test': {'http-01': {'resource': '.well-known/acme-challenge/tok1', 'resource_value': 'v1'}}}),
        order('/srv/b', {}),                      # every authorization already valid (reused): nothing to write
        {'skipped': True, 'item': {}},
    ]
    assert FILTERS['acme_http01_files'](results) == [
        dict(path='/srv/a/tok1', content='v1', domain='a.test'),
        dict(path='/srv/a/tok2', content='v2', domain='b.test')]
    assert FILTERS['acme_http01_files'](None) == []


def test_http01_files_refuses_orders_without_http01_or_webroot():
    with pytest.raises(AnsibleFilterError, match='offers no http-01 challenge'):
        FILTERS['acme_http01_files']([order('/srv/a', {'a.test': {'dns-01': {}}})])
    with pytest.raises(AnsibleFilterError, match='has no webroot'):
        FILTERS['acme_http01_files']([{'item': {}, 'challenge_data': {'a.test': {}}}])


def bundles(*names):
    sites = [{'name': name, 'domains': ['%s.test' % name]} for name in names]
    return FILTERS['acme_cert_items'](sites, ['rsa', 'ecdsa'], '/c', '/w', bundles=True)


def test_haproxy_acme_frontends_add_the_bundles_and_hold_back_tls_until_they_exist():
    certs = bundles('www', 'api')
    frontends = [
        {'name': 'www', 'bind': ['*:80'], 'tls_bind': ['*:443'], 'acme_sites': ['www'], 'alpn': ['h2'],
         'redirect_https': True, 'hsts_max_age': 300, 'acme_challenge': True},
        {'name': 'api', 'tls_bind': ['*:8443'], 'acme_sites': ['api'], 'tls_certificates': ['/own.pem']},
        {'name': 'tls-only', 'tls_bind': ['*:9443'], 'acme_sites': ['api']},
        {'name': 'plain', 'bind': ['*:8080']},
    ]
    full = FILTERS['haproxy_acme_frontends'](frontends, certs)
    assert full[0]['tls_certificates'] == ['/c/www/rsa.pem', '/c/www/ecdsa.pem'] and 'acme_sites' not in full[0]
    assert full[1]['tls_certificates'] == ['/own.pem', '/c/api/rsa.pem', '/c/api/ecdsa.pem']
    assert [f['name'] for f in full] == ['www', 'api', 'tls-only', 'plain'] and full[3] == frontends[3]
    assert 'acme_sites' in frontends[0]                                   # the input is not modified
    first = FILTERS['haproxy_acme_frontends'](frontends, certs, usable=['/c/www/ecdsa.pem'])
    assert first[0]['tls_certificates'] == ['/c/www/ecdsa.pem'] and first[0]['redirect_https']
    # Nothing usable yet: plain http only (the challenge is answered there), and a TLS-only frontend waits.
    none = FILTERS['haproxy_acme_frontends'](frontends, certs, usable=[])
    assert none[0] == {'name': 'www', 'bind': ['*:80'], 'acme_challenge': True, 'http_request': [
        {'action': 'return', 'args': 'status 503', 'cond': '!{ path_beg /.well-known/acme-challenge/ }'}]}
    assert none[1]['tls_certificates'] == ['/own.pem'] and none[1]['tls_bind'] == ['*:8443']
    assert [f['name'] for f in none] == ['www', 'api', 'plain']


def test_a_frontend_waiting_for_its_certificate_answers_503_but_the_challenge_before_its_own_rules():
    from ansible_collections.opsnotes.edge.plugins.module_utils import _haproxy
    certs = bundles('www')
    own = {'action': 'deny', 'cond': '{ path_beg /admin }'}
    frontends = [{'name': 'www', 'bind': ['*:80'], 'tls_bind': ['*:443'], 'acme_sites': ['www'],
                  'acme_challenge': True, 'http_request': [own], 'default_backend': 'be'},
                 {'name': 'raw', 'mode': 'tcp', 'bind': ['*:8443'], 'tls_bind': ['*:9443'], 'acme_sites': ['www'],
                  'default_backend': 'be'}]
    none = FILTERS['haproxy_acme_frontends'](frontends, certs, usable=[])
    assert [rule['action'] for rule in none[0]['http_request']] == ['return', 'deny'] and frontends[0]['http_request'] == [own]
    assert 'http_request' not in none[1]                                   # tcp: no http rules
    config = {'frontends': none[:1], 'global': {'acme_thumbprint': 'A' * 43},
              'backends': [{'name': 'be', 'servers': [{'name': 's', 'address': '10.0.0.1', 'port': 80}]}]}
    assert _haproxy.lint(config)[0] == []
    text = _haproxy.render(config)
    # The challenge answered first, then 503 for the rest, then the frontend's own rules.
    assert 'http-request return status 503 if !{ path_beg /.well-known/acme-challenge/ }' in text
    assert text.index('lf-string') < text.index('return status 503') < text.index('http-request deny')
    # With a usable certificate: no such rule.
    some = FILTERS['haproxy_acme_frontends'](frontends, certs, usable=['/c/www/rsa.pem'])
    assert some[0]['http_request'] == [own]


def test_haproxy_acme_errors_name_the_frontend_and_the_site():
    sites = [{'name': 'www', 'domains': ['www.test']}]
    errors = FILTERS['haproxy_acme_errors']([
        {'name': 'a', 'tls_bind': ['*:443'], 'acme_sites': ['www']},
        {'name': 'b', 'tls_bind': ['*:443'], 'acme_sites': ['www', 'shop']},
        {'name': 'c', 'bind': ['*:80'], 'acme_sites': ['www']},
        {'name': 'd', 'tls_bind': ['*:443'], 'acme_sites': 'www'},
        {'name': 'e', 'bind': ['*:80']},
    ], sites)
    assert errors == [
        "haproxy_frontends[1].acme_sites: 'shop' is not a site of haproxy_acme_sites",
        'haproxy_frontends[2].acme_sites: needs tls_bind (the address:port that serves their certificates)',
        "haproxy_frontends[3].acme_sites: 'www' must be a list of site names of haproxy_acme_sites",
    ]


def test_acme_check_items_give_the_fullchains_then_the_bundles():
    certs = FILTERS['acme_cert_items']([{'name': 'w', 'domains': ['w.test']}], ['rsa'], '/c', '/w')
    plain = FILTERS['acme_check_items'](certs)
    assert plain == [dict(name='w', key_type='rsa', cert='/c/w/rsa.fullchain.pem', key='/c/w/rsa.key',
                          domains=['w.test'])]
    items = FILTERS['acme_check_items'](bundles('www'))
    assert [i['cert'] for i in items] == ['/c/www/rsa.fullchain.pem', '/c/www/ecdsa.fullchain.pem',
                                          '/c/www/rsa.pem', '/c/www/ecdsa.pem']
    assert items[2] == dict(name='www', key_type='rsa', cert='/c/www/rsa.pem', domains=['www.test'])


RENEW_OUTPUT = '''lab (rsa): renewing: forced
renewed lab (rsa): serial 0A1B2C, notAfter=Nov 21 00:00:00 2031 GMT
lab (ecdsa): renewing: forced
renewed lab (ecdsa): serial FF00, notAfter=Nov 21 00:00:00 2031 GMT
renewed: 2, failed: 0
'''


def test_renewal_rows_name_the_serial_served_and_whether_it_is_new():
    served = [dict(item='www.lab.test', serial_number=0xFF00), dict(item='lab.test', serial_number=0xA1B2C),
              dict(item='old.lab.test', serial_number=0x1234), dict(item='down.lab.test', msg='connection refused')]
    rows = FILTERS['renewal_rows'](served, 'rs1', '127.0.0.1', RENEW_OUTPUT)
    assert [(r['name'], r['serial'], r['renewed']) for r in rows] == [
        ('www.lab.test', 'ff00', True), ('lab.test', 'a1b2c', True), ('old.lab.test', '1234', False),
        ('down.lab.test', '-', False)]
    assert rows[0]['line'].split() == ['rs1', '127.0.0.1', 'www.lab.test', 'ff00', 'renewed:', 'lab', '(ecdsa)']
    assert rows[1]['line'].endswith('renewed: lab (rsa)')
    assert rows[2]['line'].endswith('NOT the certificate just issued')
    assert rows[3]['line'].endswith('no answer: connection refused')
    report = FILTERS['renewal_report'](rows).splitlines()
    assert report[0].split() == ['HOST', 'ADDRESS', 'NAME', '(SNI)', 'SERIAL', 'SERVED', 'STATE']
    assert report[1:] == [row['line'] for row in rows]
    assert report[0].index('ADDRESS') == report[1].index('127.0.0.1') and report[0].index('STATE') == report[1].index('renewed')


def test_renewal_rows_without_a_renewal_mark_nothing_new():
    rows = FILTERS['renewal_rows']([dict(item='a.test', serial_number=0xFF00)], 'h', '127.0.0.1', '')
    assert [r['renewed'] for r in rows] == [False]


def test_renewal_rows_in_check_mode_say_nothing_was_issued_instead_of_calling_the_certificate_old():
    served = [dict(item='a.test', serial_number=0xFF00), dict(item='b.test', msg='connection refused')]
    rows = FILTERS['renewal_rows'](served, 'h', '127.0.0.1', '', True)
    assert [r['renewed'] for r in rows] == [False, False]
    assert rows[0]['line'].endswith('served (check mode: nothing issued)')
    assert rows[1]['line'].endswith('no answer: connection refused')
    # The control: the same answer outside check mode is a certificate older than the one just issued.
    assert FILTERS['renewal_rows'](served, 'h', '127.0.0.1', '')[0]['line'].endswith('NOT the certificate just issued')


def test_nginx_pairs_serve_the_bundle_only_once_it_certifies_its_key():
    sites = [{'name': 'shop', 'domains': ['shop.test']}]
    rsa, ecdsa = FILTERS['acme_cert_items'](sites, ['rsa', 'ecdsa'], '/etc/ssl/acme', '/var/lib/acme', bundles=True)
    pairs = FILTERS['nginx_acme_pairs']
    # Without what was found: every bundle (the configuration after issuance).
    assert pairs([rsa]) == [dict(name='shop', key_type='rsa', cert='/etc/ssl/acme/shop/rsa.pem',
                                 key='/etc/ssl/acme/shop/rsa.pem', state='usable')]
    found = [
        # rsa: the bundle works; its fullchain no longer matches the key (a new key, its certificate not issued yet).
        dict(cert=rsa['bundle'], exists=True, usable=True), dict(cert=rsa['cert'], exists=True, usable=False),
        # ecdsa: a host from before the bundles: only the fullchain and its key, which match.
        dict(cert=ecdsa['cert'], exists=True, usable=True), dict(cert=ecdsa['bundle'], exists=False, usable=False),
    ]
    assert [(p['state'], p['cert'], p['key']) for p in pairs([rsa, ecdsa], found)] == [
        ('usable', rsa['bundle'], rsa['bundle']), ('usable', ecdsa['cert'], ecdsa['key'])]
    # A bundle that exists but is not usable is broken, whatever the fullchain says; no files: missing; an old
    # fullchain whose key was replaced, and no bundle: broken (never the pair that nginx could not load).
    found = [dict(cert=rsa['bundle'], exists=True, usable=False), dict(cert=rsa['cert'], exists=True, usable=True),
             dict(cert=ecdsa['cert'], exists=True, usable=False)]
    assert [p['state'] for p in pairs([rsa, ecdsa], found)] == ['broken', 'broken']
    assert [p['state'] for p in pairs([rsa, ecdsa], [])] == ['missing', 'missing']


def test_two_consumers_on_one_host_must_share_the_timer_and_may_not_share_files():
    errors = FILTERS['acme_shared_host_errors']

    def role(prefix, names, **extra):
        base = dict(prefix=prefix, sites=[{'name': n, 'domains': ['%s.test' % n]} for n in names],
                    cert_dir='/etc/ssl/opsnotes-acme', account_group='', renewal_timer=True,
                    renewal_calendar='*-*-* 03,15:17:00')
        base.update(extra)
        return base
    assert errors(role('haproxy', ['lb']), role('nginx', ['www'])) == []
    assert errors(role('haproxy', ['lb']), role('nginx', [], renewal_timer=False)) == []    # no sites there
    assert errors(role('haproxy', ['www']), role('nginx', ['www'], cert_dir='/etc/ssl/web/')) == []
    found = errors(role('haproxy', ['www', 'lb'], renewal_calendar='daily', account_group='lbs'),
                   role('nginx', ['www'], renewal_timer=False))
    assert found == [
        "haproxy_acme_renewal_timer: True, but nginx_acme_renewal_timer is False (this host also has "
        "nginx_acme_sites, and one renewal timer serves both roles: make them equal)",
        "haproxy_acme_renewal_calendar: 'daily', but nginx_acme_renewal_calendar is '*-*-* 03,15:17:00' (this host "
        "also has nginx_acme_sites, and one renewal timer serves both roles: make them equal)",
        "haproxy_acme_account_group: 'lbs', but nginx_acme_account_group is '' in the same certificate directory "
        "/etc/ssl/opsnotes-acme, where both use one account key file: give them the same group, or another "
        "haproxy_acme_cert_dir",
        "haproxy_acme_sites[0].name: 'www' is also a site of nginx_acme_sites in the same certificate directory "
        "/etc/ssl/opsnotes-acme (the same key and certificate files): rename one, or give one role another "
        "haproxy_acme_cert_dir"]

    # One timer: both fetch or both order (a fetching host's timer also runs after boot and hourly).
    assert errors(role('haproxy', ['lb'], fetches=True), role('nginx', ['www'], fetches='True')) == []
    assert errors(role('haproxy', ['lb'], fetches=False), role('nginx', ['www'], fetches='False')) == []
    assert errors(role('haproxy', ['lb'], fetches=True), role('nginx', ['www'], fetches='False')) == [
        "haproxy_acme_issuer: this host fetches its certificates, but for nginx_acme_sites it orders them (this host "
        "also has nginx_acme_sites, and one renewal timer serves both roles: give both the same account group and "
        "haproxy_acme_issuer)"]

    # One fetch user with one key: the first host of two account groups cannot serve both.
    web = '/etc/ssl/web'
    assert errors(role('haproxy', ['lb'], account_group='lbs', serves=True),
                  role('nginx', ['www'], account_group='lbs', serves='True')) == []
    assert errors(role('haproxy', ['lb'], account_group='lbs', serves=True),
                  role('nginx', ['www'], account_group='web', cert_dir=web, serves=False)) == []
    assert errors(role('haproxy', ['lb'], account_group='lbs', serves=True),
                  role('nginx', ['www'], account_group='web', cert_dir=web, serves='True')) == [
        "haproxy_acme_account_group: 'lbs', but nginx_acme_account_group is 'web', and this host is the first of "
        "both: the hosts of each group would fetch from it as one user whose key is one group's (each role's run "
        "would replace the other's): give both roles one account group, or put another host first in one of them"]


def test_renewal_rows_count_a_certificate_fetched_from_the_host_that_ordered_it():
    rows = FILTERS['renewal_rows']([{'item': 'www.lab.test', 'serial_number': 0xabc}], 'rs1', '127.0.0.1',
                                   'fetched lab (ecdsa) from opsnotes-lab-director: serial 0ABC, notAfter=x\n')
    assert rows[0]['renewed'] and 'renewed: lab (ecdsa)' in rows[0]['line']
    rows = FILTERS['renewal_rows']([{'item': 'www.lab.test', 'serial_number': 0xabd}], 'rs1', '127.0.0.1',
                                   'fetched lab (ecdsa) from opsnotes-lab-director: serial 0ABC, notAfter=x\n')
    assert not rows[0]['renewed']


def test_bundle_drift_when_a_fresh_fullchain_has_no_usable_bundle():
    certs = FILTERS['acme_cert_items']([{'name': 'shop', 'domains': ['shop.test']}], ['rsa'], '/c', '/w', bundles=True)
    fullchain, bundle = certs[0]['cert'], certs[0]['bundle']
    drift = FILTERS['acme_bundle_drift']
    fresh = dict(cert=fullchain, serial='a1', due=False)
    assert drift(certs, [fresh, dict(cert=bundle, serial='a1', usable=True)]) is False
    # The bundle older than the fullchain, unusable, or missing: drift.
    assert drift(certs, [dict(cert=fullchain, serial='b2', due=False), dict(cert=bundle, serial='a1', usable=True)])
    assert drift(certs, [dict(cert=fullchain, serial='a1', due=False), dict(cert=bundle, serial='a1', usable=False)])
    assert drift(certs, [dict(cert=fullchain, serial='a1', due=False)])
    # A due fullchain is ordered anew, not bundled: no drift.
    assert drift(certs, [dict(cert=fullchain, serial='a1', due=True)]) is False


def test_the_duplicate_limit_counts_one_order_per_certificate_and_host_that_orders_it():
    errors = FILTERS['acme_duplicate_errors']
    lab = [{'name': 'lab', 'domains': ['www.lab.test', 'lab.test']}]
    groups = {'acme': ['director', 'director2', 'rs1', 'rs2']}
    hostvars = {
        'director': {'haproxy_acme_sites': lab, 'haproxy_acme_account_group': 'acme'},
        'director2': {'haproxy_acme_sites': lab, 'haproxy_acme_account_group': 'acme'},
        'rs1': {'nginx_acme_sites': lab, 'nginx_acme_account_group': 'acme'},
        'rs2': {'nginx_acme_sites': lab, 'nginx_acme_account_group': 'acme'},
        'client': {'nginx_acme_sites': '{{ undefined }}'},     # not a list (or not templatable): not counted
    }
    # The group's first host orders RSA and ECDSA once for the four: 2 orders.
    assert errors(hostvars, groups, 5, 'nginx') == [] and errors(hostvars, groups, 2, 'nginx') == []
    # Each host orders its own (issuer: self everywhere): 8 orders for one set of names, refused, named once.
    selfish = {host: dict(v, **{k.replace('sites', 'issuer'): 'self' for k in v if k.endswith('_sites')})
               for host, v in hostvars.items()}
    assert errors(selfish, groups, 5, 'nginx') == [
        "the names lab.test, www.lab.test: one run of the roles orders 8 certificates for them (lab ecdsa by "
        "director, lab rsa by director, lab ecdsa by director2, lab rsa by director2, lab ecdsa by rs1, lab rsa by "
        "rs1, lab ecdsa by rs2, lab rsa by rs2), over the CA's limit of 5 per set of names per 7 days "
        "(nginx_acme_duplicate_limit): let one host order for the others (one nginx_acme_account_group, "
        "nginx_acme_issuer: first), or order fewer key types"]
    # The running host's own values win over its inventory's (role vars, -e): rs1 ordering its own makes 4.
    mine = dict(host='rs1', sites=lab, key_types=['rsa', 'ecdsa'], account_group='acme', issuer='self')
    assert errors(hostvars, groups, 4, 'nginx', mine) == []
    assert errors(hostvars, groups, 3, 'nginx', mine)[0].startswith(
        'the names lab.test, www.lab.test: one run of the roles orders 4 certificates for them')
    # Fewer key types, or no limit (a private CA).
    assert errors(hostvars, groups, 3, 'nginx', dict(mine, key_types=['ecdsa'])) == []
    assert errors(selfish, groups, 0, 'nginx') == []
    # Counted: the run's hosts and their account groups. A host elsewhere with the same names (here a value given
    # with -e, which reaches every host) is not.
    stray = dict(hostvars, client={'nginx_acme_sites': lab, 'nginx_acme_issuer': 'self'})
    assert errors(stray, groups, 2, 'nginx', hosts=['rs1']) == []
    assert errors(stray, groups, 2, 'nginx')[0].startswith('the names lab.test, www.lab.test: one run of the roles '
                                                           'orders 4 certificates')


def test_a_fetching_host_needs_each_of_its_certificates_ordered_by_the_first_host_of_its_group():
    errors = FILTERS['acme_fetch_errors']
    lab = [{'name': 'lab', 'domains': ['www.lab.test', 'lab.test']}]
    groups = {'acme': ['director', 'rs1', 'rs2']}
    hostvars = {
        'director': {'haproxy_acme_sites': lab, 'haproxy_acme_account_group': 'acme'},
        'rs1': {'nginx_acme_sites': lab, 'nginx_acme_account_group': 'acme'},
        'rs2': {'nginx_acme_sites': [{'name': 'lab', 'domains': ['lab.test']}, {'name': 'shop', 'domains': ['s.test']}],
                'nginx_acme_account_group': 'acme', 'nginx_acme_key_types': ['ecdsa']},
    }
    assert errors(hostvars, groups, 'nginx', ['rs1']) == []
    assert errors(hostvars, groups, 'haproxy', ['director']) == []      # it orders
    assert errors(hostvars, groups, 'nginx', ['rs1', 'rs2']) == [
        "rs2: nginx_acme_sites[0] (lab: lab.test, ecdsa): director, the first host of its account group, orders no "
        "such certificate, and this host fetches its certificates from there: give director the same site (name, "
        "names and key types), or nginx_acme_issuer: self",
        "rs2: nginx_acme_sites[1] (shop: s.test, ecdsa): director, the first host of its account group, orders no "
        "such certificate, and this host fetches its certificates from there: give director the same site (name, "
        "names and key types), or nginx_acme_issuer: self"]
    # A key type the first host does not order; a host that orders its own is not checked.
    assert errors(hostvars, groups, 'nginx', ['rs1'], dict(host='rs1', key_types=['rsa', 'ecdsa', 'dsa']))[0].startswith(
        'rs1: nginx_acme_sites[0] (lab: lab.test, www.lab.test, dsa): director')
    assert errors(hostvars, groups, 'nginx', ['rs2'], dict(host='rs2', issuer='self')) == []


def test_the_first_host_serves_the_hosts_that_fetch_from_it_even_when_it_orders_for_itself_only():
    serves = FILTERS['acme_serves_fetchers']
    lab = [{'name': 'lab', 'domains': ['www.lab.test', 'lab.test']}]
    groups = {'acme': ['director', 'rs1', 'rs2'], 'alone': ['director']}
    hostvars = {
        'director': {'haproxy_acme_sites': lab, 'haproxy_acme_account_group': 'acme', 'haproxy_acme_issuer': 'self'},
        'rs1': {'nginx_acme_sites': lab, 'nginx_acme_account_group': 'acme'},
        'rs2': {'nginx_acme_sites': lab, 'nginx_acme_account_group': 'acme'},
    }
    assert serves(hostvars, groups, 'director', 'acme', 'first')
    assert not serves(hostvars, groups, 'rs1', 'acme', 'first')          # not the first host
    assert not serves(hostvars, groups, 'director', 'alone', 'first')    # nobody else
    assert not serves(hostvars, groups, 'director', '', 'first')
    # The gap this closes: the first host orders for itself only (self), the others fetch from it (first, the
    # default): it keeps the export for them.
    assert serves(hostvars, groups, 'director', 'acme', 'self')
    # The control: when every other host orders its own, a first host set to self serves nobody (no SSH user).
    for name in ('rs1', 'rs2'):
        hostvars[name]['nginx_acme_issuer'] = 'self'
    assert not serves(hostvars, groups, 'director', 'acme', 'self')
    # A host of the group whose inventory says nothing of the role does not count; one in another group neither.
    hostvars['rs1'] = {'nginx_acme_sites': lab, 'nginx_acme_account_group': 'other'}
    assert not serves(hostvars, groups, 'director', 'acme', 'self')
    hostvars['rs2'] = {'haproxy_acme_account_group': 'acme'}
    assert serves(hostvars, groups, 'director', 'acme', 'self')


def test_eab_errors_want_both_values_and_never_repeat_the_hmac_key():
    errors = FILTERS['acme_eab_errors']
    good = 'TQ1HODmp-CQg35K3keMyPWlQEjz4FoFw3-9wn6M6YqY'
    assert errors('', '', 'nginx') == [] and errors(None, None, 'nginx') == []
    assert errors('kid-1', good, 'nginx') == [] and errors('kid-1', good + '=', 'haproxy') == []
    assert errors('kid-1', '', 'nginx') == errors('', good, 'nginx') == [
        'nginx_acme_eab_kid, nginx_acme_eab_hmac_key: give both (the key ID and the HMAC key the CA gave for External '
        'Account Binding), or neither']
    assert errors('kid 1', good, 'haproxy') == [
        "haproxy_acme_eab_kid: 'kid 1' must be 1 to 256 printable ASCII characters, without spaces"]
    for bad in ('c2hvcnQ', 'not base64/url+key; rm -rf /', good + '\n' + good, 'é' * 20):
        found = errors('kid-1', bad, 'nginx')
        assert len(found) == 1 and found[0].startswith('nginx_acme_eab_hmac_key: is not an HMAC key') and bad not in found[0]
