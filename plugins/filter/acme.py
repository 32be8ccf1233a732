# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filters of the nginx_acme role: the certificate items of a site list, and the http-01 token files of orders."""

from __future__ import annotations

import posixpath
import re

from ansible.errors import AnsibleFilterError


def acme_cert_items(sites, key_types, cert_dir, challenge_dir, bundles=False, profile=''):
    """One item per site and key type: name, key_type, domains, webroot, the ACME profile (the site's, else
    ``profile``; empty for the CA's default) and the key, CSR and fullchain paths; with ``bundles``, also the path
    of the bundle of fullchain and key that HAProxy and nginx load."""
    items = []
    for site in sites or []:
        base = posixpath.join(cert_dir, site['name'])
        for key_type in key_types:
            items.append(dict(
                name=site['name'], key_type=key_type, domains=list(site['domains']),
                webroot=(site.get('webroot') or challenge_dir).rstrip('/'),
                key=posixpath.join(base, '%s.key' % key_type), csr=posixpath.join(base, '%s.csr' % key_type),
                cert=posixpath.join(base, '%s.fullchain.pem' % key_type),
                profile=site.get('profile') if site.get('profile') is not None else (profile or '')))
            if bundles:
                items[-1]['bundle'] = posixpath.join(base, '%s.pem' % key_type)
    return items


def acme_check_items(certs):
    """The certificate items as acme_certificate_check takes them: each fullchain with its key; and each bundle
    (fullchain and key in one file, what HAProxy loads) as an item of its own."""
    items = []
    for cert in certs or []:
        items.append({key: cert[key] for key in ('name', 'key_type', 'cert', 'key', 'domains')})
    for cert in certs or []:
        if cert.get('bundle'):
            items.append(dict(name=cert['name'], key_type=cert['key_type'], cert=cert['bundle'],
                              domains=cert['domains']))
    return items


def acme_http01_files(order_results):
    """The token files that the registered loop results of community.crypto.acme_certificate ask for.

    Each loop item must carry the webroot; returns [{path, content}], one per pending challenge.
    """
    files = []
    for result in order_results or []:
        if not isinstance(result, dict) or not result.get('challenge_data'):
            continue
        webroot = (result.get('item') or {}).get('webroot')
        if not webroot:
            raise AnsibleFilterError('acme_http01_files: the loop item of an order has no webroot')
        for identifier, challenges in sorted(result['challenge_data'].items()):
            http01 = challenges.get('http-01')
            if not http01:
                raise AnsibleFilterError('acme_http01_files: the order for %s offers no http-01 challenge' % identifier)
            files.append(dict(path=posixpath.join(webroot, posixpath.basename(http01['resource'])),
                              content=http01['resource_value'], domain=identifier))
    return files


def nginx_acme_pairs(certs, found=None):
    """The certificate and key files nginx loads per item of ``certs`` (acme_cert_items with bundles), from what the
    engine found (``found``: acme_certificate_check's certificates, the bundles among them); without ``found``,
    every bundle (all issued).

    Each item gives {name, key_type, cert, key, state}: nginx serves the bundle (fullchain and key in one file, which
    the renewal script writes only when the certificate certifies the key), so a new key goes live only with its
    certificate. ``state`` is C(usable) (serve it), C(missing) (nothing to serve yet) or C(broken) (a bundle exists
    but is not usable: expired, unreadable, another key). A host from before the bundles has only the fullchain and
    its key: while they match and no bundle exists yet, that pair is served (the renewal script then writes the
    bundle, and the next configuration takes it)."""
    by_path = dict((entry.get('cert'), entry) for entry in found or [])
    pairs = []
    for cert in certs or []:
        pair = dict(name=cert['name'], key_type=cert['key_type'], cert=cert['bundle'], key=cert['bundle'],
                    state='usable')
        if found is not None:
            bundle, fullchain = by_path.get(cert['bundle'], {}), by_path.get(cert['cert'], {})
            if bundle.get('exists'):
                pair['state'] = 'usable' if bundle.get('usable') else 'broken'
            elif fullchain.get('usable'):
                pair.update(cert=cert['cert'], key=cert['key'])
            else:
                pair['state'] = 'broken' if fullchain.get('exists') else 'missing'
        pairs.append(pair)
    return pairs


def acme_bundle_drift(certs, found):
    """Whether a bundle must be rewritten without ordering anything: a fullchain of ``certs`` (acme_cert_items with
    bundles) that is not due, and no usable bundle holding its certificate (the bundle missing, unusable or older).
    ``found``: the certificates as acme_certificate_check or acme_config inspected them."""
    fullchains = set(cert['cert'] for cert in certs or [])
    bundles = set(cert['bundle'] for cert in certs or [])
    found = found or []
    fresh = set(entry.get('serial') for entry in found if entry.get('cert') in fullchains and not entry.get('due'))
    served = set(entry.get('serial') for entry in found if entry.get('cert') in bundles and entry.get('usable'))
    return bool(fresh - served)


# The TLS options of a frontend, dropped while none of its certificates exists yet.
TLS_KEYS = ('tls_bind', 'tls_certificates', 'alpn', 'redirect_https', 'hsts_max_age', 'hsts_include_subdomains')
# What a frontend of ACME sites answers on its plain binds until a certificate of theirs is usable.
PENDING_RULE = {'action': 'return', 'args': 'status 503', 'cond': '!{ path_beg /.well-known/acme-challenge/ }'}


def haproxy_acme_frontends(frontends, certs, usable=None):
    """The haproxy role's frontends with the certificates of their ``acme_sites``: each site's bundles (``certs``,
    acme_cert_items with bundles) join its tls_certificates; with ``usable`` (the bundles that exist and are usable
    now), only those. A frontend left without any certificate (before the first issuance) loses its TLS options
    until they exist, so HAProxy never points at a missing file: its plain binds answer the challenge meanwhile
    and 503 to everything else (an http frontend; never the sites in clear), and a frontend with TLS binds only is
    left out."""
    result = []
    for frontend in frontends or []:
        frontend = dict(frontend)
        sites = frontend.pop('acme_sites', None) or []
        paths = list(frontend.get('tls_certificates') or [])
        paths += [cert['bundle'] for cert in certs or [] if cert['name'] in sites
                  and (usable is None or cert['bundle'] in usable) and cert['bundle'] not in paths]
        if paths:
            frontend['tls_certificates'] = paths
        elif sites:
            for key in TLS_KEYS:
                frontend.pop(key, None)
            if not frontend.get('bind'):
                continue
            if frontend.get('mode', 'http') == 'http':
                # Fail closed: never the sites in clear while their certificate is missing. The challenge path
                # (answered before this rule with acme_challenge, else by a backend) is all that goes through.
                frontend['http_request'] = [PENDING_RULE] + list(frontend.get('http_request') or [])
        result.append(frontend)
    return result


def haproxy_acme_errors(frontends, sites, var='haproxy_frontends', sites_var='haproxy_acme_sites'):
    """Problems with the frontends' acme_sites: a list of names of ``sites``, on a frontend with tls_bind."""
    names = [site.get('name') for site in sites or [] if isinstance(site, dict)]
    errors = []
    for index, frontend in enumerate(frontends or []):
        if not isinstance(frontend, dict) or frontend.get('acme_sites') is None:
            continue
        where = '%s[%d].acme_sites' % (var, index)
        value = frontend['acme_sites']
        if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
            errors.append('%s: %r must be a list of site names of %s' % (where, value, sites_var))
            continue
        errors += ['%s: %r is not a site of %s' % (where, name, sites_var) for name in value if name not in names]
        if value and not frontend.get('tls_bind'):
            errors.append('%s: needs tls_bind (the address:port that serves their certificates)' % where)
    return errors


def _truthy(value):
    """A switch given as a bool or as its text (a templated variable)."""
    return value if isinstance(value, bool) else str(value).strip().lower() in ('true', 'yes', '1', 'on')


def acme_shared_host_errors(mine, other):
    """Problems of two ACME consumers on one host (the nginx_acme and the haproxy role), each given as a dict with
    ``prefix`` (its variables' prefix, e.g. C(nginx_acme)), ``sites``, ``cert_dir``, ``account_group``,
    ``renewal_timer``, ``renewal_calendar``, ``fetches`` (whether it fetches its certificates from the host that
    orders for its account group) and ``serves`` (whether other hosts fetch from this one, acme_serves_fetchers).
    The host has one renewal script, unit and timer, which serve both (one data file each): so the timer's switch
    and calendar must agree, and so must ``fetches`` (a fetching host's timer also runs after boot and hourly); one
    fetch user, whose one key is its account group's, so it serves one account group only; and in one certificate
    directory the two share the account key file (so one account group) and may not have a site of the same name
    (the same files). Nothing when either has no sites."""
    if not (mine.get('sites') and other.get('sites')):
        return []
    errors = []
    head = 'this host also has %s_acme_sites, and one renewal timer serves both roles: ' % other['prefix']
    for key in ('renewal_timer', 'renewal_calendar'):
        if str(mine.get(key)) != str(other.get(key)):
            errors.append('%s_acme_%s: %r, but %s_acme_%s is %r (%smake them equal)' % (
                mine['prefix'], key, mine.get(key), other['prefix'], key, other.get(key), head))
    if _truthy(mine.get('fetches')) != _truthy(other.get('fetches')):
        errors.append('%s_acme_issuer: this host %s, but for %s_acme_sites it %s (%sgive both the same account group '
                      'and %s_acme_issuer)' % (
                          mine['prefix'], 'fetches its certificates' if _truthy(mine.get('fetches')) else 'orders them',
                          other['prefix'], 'fetches them' if _truthy(other.get('fetches')) else 'orders them', head,
                          mine['prefix']))
    if _truthy(mine.get('serves')) and _truthy(other.get('serves')) \
            and (mine.get('account_group') or '') != (other.get('account_group') or ''):
        errors.append('%s_acme_account_group: %r, but %s_acme_account_group is %r, and this host is the first of both: '
                      'the hosts of each group would fetch from it as one user whose key is one group\'s (each '
                      'role\'s run would replace the other\'s): give both roles one account group, or put another '
                      'host first in one of them' % (mine['prefix'], mine.get('account_group') or '', other['prefix'],
                                                     other.get('account_group') or ''))
    if str(mine.get('cert_dir')).rstrip('/') == str(other.get('cert_dir')).rstrip('/'):
        same = 'in the same certificate directory %s' % mine.get('cert_dir')
        if (mine.get('account_group') or '') != (other.get('account_group') or ''):
            errors.append('%s_acme_account_group: %r, but %s_acme_account_group is %r %s, where both use one account '
                          'key file: give them the same group, or another %s_acme_cert_dir' % (
                              mine['prefix'], mine.get('account_group') or '', other['prefix'],
                              other.get('account_group') or '', same, mine['prefix']))
        theirs = set(site.get('name') for site in other['sites'] if isinstance(site, dict))
        for index, site in enumerate(mine['sites']):
            if isinstance(site, dict) and site.get('name') in theirs:
                errors.append('%s_acme_sites[%d].name: %r is also a site of %s_acme_sites %s (the same key and '
                              'certificate files): rename one, or give one role another %s_acme_cert_dir' % (
                                  mine['prefix'], index, site.get('name'), other['prefix'], same, mine['prefix']))
    return errors


def _host_var(vars_, key, default=None):
    """One variable of a host (``hostvars[host]`` templates only what is asked), or ``default`` when it has none or
    it cannot be templated."""
    try:
        value = vars_[key]
    except Exception:   # KeyError, or an undefined variable inside it: that host does not count for this
        return default
    return default if value is None else value


def _getter(hostvars, host, own=None):
    """get(name, default) for one host's variables: ``own`` (the running host's role values) first, then its
    hostvars."""
    def get(name, default):
        if own and own.get(name) is not None:
            return own[name]
        return _host_var(hostvars[host], name, default) if host in hostvars else default
    return get


def _own_values(prefix, mine):
    """The running host's own values of role ``prefix`` as variables (empty without ``mine['host']``)."""
    if not mine.get('host'):
        return {}
    return {'%s_acme_sites' % prefix: mine.get('sites'), '%s_acme_key_types' % prefix: mine.get('key_types'),
            '%s_acme_account_group' % prefix: mine.get('account_group'),
            '%s_acme_issuer' % prefix: mine.get('issuer')}


def _site_names(site):
    """A site's set of names, as the CA counts them (sorted, lower case)."""
    return tuple(sorted(set(str(d).lower() for d in site['domains'])))


def _account_group(get, prefix):
    """A host's account group for role ``prefix`` (nginx's deprecated ``nginx_acme_challenge_group`` too), or ''."""
    group = get('%s_acme_account_group' % prefix, '') or (
        get('nginx_acme_challenge_group', '') if prefix == 'nginx' else '')
    return group if isinstance(group, str) else ''


def _order_source(get, prefix, host, groups):
    """Who orders a host's certificates for role ``prefix`` (nginx or haproxy): the first host of its account group
    (``*_acme_issuer: first``, the default), else the host itself. ``get(name, default)`` reads its variables."""
    members = groups.get(_account_group(get, prefix)) or []
    if members and get('%s_acme_issuer' % prefix, 'first') == 'first':
        return members[0]
    return host


def _orders(get, host, groups):
    """Each certificate of a host's two roles with who orders it: (orderer, site name, names, key type)."""
    for role in ('nginx', 'haproxy'):
        sites, types = get('%s_acme_sites' % role, []), get('%s_acme_key_types' % role, ['rsa', 'ecdsa'])
        if not isinstance(sites, list) or not isinstance(types, list):
            continue
        orderer = _order_source(get, role, host, groups)
        for site in sites:
            if isinstance(site, dict) and isinstance(site.get('domains'), list):
                for key_type in types:
                    yield orderer, str(site.get('name')), _site_names(site), str(key_type)


def acme_duplicate_errors(hostvars, groups, limit, prefix, mine=None, hosts=None):
    """The sets of names that one run of the roles would order more often than the CA's duplicate limit (Let's
    Encrypt: 5 certificates per set of names per 7 days, whatever the key), each named once with its orders.
    Counted: the hosts of the run (``hosts``, the play's; all of ``hostvars`` when omitted) and every host of their
    account groups (the hosts that serve the same names), for both roles (``nginx_acme_sites``,
    ``haproxy_acme_sites``): a certificate (site and key type) once per host that orders it, so an account group
    whose first host orders for the others counts once. ``mine``: the running host's own values of role ``prefix``
    (``host``, ``sites``, ``key_types``, ``account_group``, ``issuer``), which win over its inventory's. ``limit``
    0: no check."""
    if not limit:
        return []
    mine = mine or {}
    own = _own_values(prefix, mine)

    def getter(host):
        return _getter(hostvars, host, own if host == mine.get('host') else None)
    counted = set(hosts if hosts is not None else hostvars) | ({mine['host']} if own else set())
    for host in list(counted):
        get = getter(host)
        for role in ('nginx', 'haproxy'):
            counted.update(groups.get(_account_group(get, role)) or [])
    plan = {}
    for host in sorted(counted):
        for orderer, name, names, key_type in _orders(getter(host), host, groups):
            plan.setdefault(names, set()).add((orderer, name, key_type))
    return ["the names %s: one run of the roles orders %d certificates for them (%s), over the CA's limit of %d "
            "per set of names per 7 days (%s_acme_duplicate_limit): let one host order for the others (one "
            "%s_acme_account_group, %s_acme_issuer: first), or order fewer key types" % (
                ', '.join(names), len(orders), ', '.join('%s %s by %s' % (s, t, o) for o, s, t in sorted(orders)),
                int(limit), prefix, prefix, prefix)
            for names, orders in sorted(plan.items()) if len(orders) > int(limit)]


def _ordered_by(hostvars, groups, orderer):
    """What ``orderer`` orders itself: {(site, names, key type)} of its roles whose certificates it orders."""
    return set((name, names, key_type) for source, name, names, key_type
               in _orders(_getter(hostvars, orderer), orderer, groups) if source == orderer)


def acme_fetch_errors(hostvars, groups, prefix, hosts, mine=None):
    """For each of ``hosts`` (the play's) that fetches its certificates for role ``prefix`` from the first host of
    its account group: each of its certificates (site and key type) that the first host does not order, a site of the
    same name and names among its ``nginx_acme_sites`` or ``haproxy_acme_sites`` with that key type. ``mine``: the
    running host's own values, as for acme_duplicate_errors."""
    mine = mine or {}
    own = _own_values(prefix, mine)
    errors, ordered_by = [], {}
    for host in hosts:
        get = _getter(hostvars, host, own if host == mine.get('host') else None)
        orderer = _order_source(get, prefix, host, groups)
        sites, types = get('%s_acme_sites' % prefix, []), get('%s_acme_key_types' % prefix, ['rsa', 'ecdsa'])
        if orderer == host or not isinstance(sites, list) or not isinstance(types, list):
            continue
        if orderer not in ordered_by:
            ordered_by[orderer] = _ordered_by(hostvars, groups, orderer)
        ordered = ordered_by[orderer]
        for index, site in enumerate(sites):
            if not isinstance(site, dict) or not isinstance(site.get('domains'), list):
                continue
            missing = [str(t) for t in types if (str(site.get('name')), _site_names(site), str(t)) not in ordered]
            if missing:
                errors.append(
                    "%s: %s_acme_sites[%d] (%s: %s, %s): %s, the first host of its account group, orders no such "
                    "certificate, and this host fetches its certificates from there: give %s the same site (name, "
                    "names and key types), or %s_acme_issuer: self" % (
                        host, prefix, index, site.get('name'), ', '.join(_site_names(site)), '/'.join(missing),
                        orderer, orderer, prefix))
    return errors


EAB_KID_RE = re.compile(r'[!-~]{1,256}')
EAB_HMAC_RE = re.compile(r'[A-Za-z0-9_-]{16,}={0,2}')


def acme_eab_errors(kid, hmac_key, prefix):
    """External Account Binding's two values for role ``prefix``: both or neither, a key ID of printable ASCII
    without spaces, an HMAC key in base64url (of 12 bytes or more). The HMAC key is never repeated in a message."""
    kid, hmac_key = '' if kid is None else str(kid), '' if hmac_key is None else str(hmac_key)
    if not kid and not hmac_key:
        return []
    if not kid or not hmac_key:
        return ['%s_acme_eab_kid, %s_acme_eab_hmac_key: give both (the key ID and the HMAC key the CA gave for '
                'External Account Binding), or neither' % (prefix, prefix)]
    errors = []
    if not EAB_KID_RE.fullmatch(kid):
        errors.append('%s_acme_eab_kid: %r must be 1 to 256 printable ASCII characters, without spaces' % (prefix, kid))
    if not EAB_HMAC_RE.fullmatch(hmac_key.strip()):
        errors.append('%s_acme_eab_hmac_key: is not an HMAC key in base64url (A-Z a-z 0-9 - _, 16 characters or '
                      'more); the value is not shown' % prefix)
    return errors


def acme_serves_fetchers(hostvars, groups, host, group, issuer):
    """Whether ``host`` keeps its certificates for other hosts to fetch: it is the first host of its account group
    ``group`` (of two hosts or more), and it orders for the others. That is so when its own ``issuer`` is ``first``,
    or when another host of the group fetches from it: for nginx_acme or haproxy, its issuer is ``first`` (the
    default), and its inventory gives that role sites or this account group. A first host that orders only for
    itself (``self``) still serves the others then, rather than leave them with nothing to fetch."""
    members = (groups.get(group) or []) if isinstance(group, str) and group else []
    if len(members) < 2 or members[0] != host:
        return False
    if issuer == 'first':
        return True
    for member in members[1:]:
        get = _getter(hostvars, member)
        for role in ('nginx', 'haproxy'):
            sites = get('%s_acme_sites' % role, None)
            uses = (isinstance(sites, list) and len(sites) > 0) or _account_group(get, role) == group
            if uses and get('%s_acme_issuer' % role, 'first') == 'first' and _account_group(get, role) in ('', group):
                return True
    return False


# A renewal, or a fetch from the host that ordered (with the serial it installed).
RENEWED_RE = re.compile(r'^(?:renewed|fetched) (\S+) \((\w+)\)(?: from \S+)?: serial ([0-9A-Fa-f]+)', re.M)


RENEWAL_LINE = '%-12s %-16s %-28s %-36s %s'


def renewal_rows(served, host, address, script_output, check_mode=False):
    """Per (name, served serial) of ``served`` (get_certificate results: item, serial_number), a report row saying
    whether that serial is one the renewal script just issued on ``host`` (its "renewed SITE (TYPE): serial HEX"
    lines in ``script_output``). In ``check_mode`` nothing was issued, and the row says so instead of calling the
    served certificate old."""
    issued = dict((int(serial, 16), '%s (%s)' % (site, key_type))
                  for site, key_type, serial in RENEWED_RE.findall(script_output or ''))
    rows = []
    for result in served:
        name, serial = result.get('item'), result.get('serial_number')
        renewed = serial in issued
        state = ('renewed: %s' % issued[serial] if renewed else
                 'no answer: %s' % result.get('msg', '') if serial is None else
                 'served (check mode: nothing issued)' if check_mode else 'NOT the certificate just issued')
        hex_serial = '%x' % serial if serial is not None else '-'
        rows.append(dict(host=host, address=address, name=name, serial=hex_serial, renewed=renewed,
                         line=RENEWAL_LINE % (host, address, name, hex_serial, state)))
    return rows


def renewal_report(rows):
    """The renewal report: a header and each row's line, in the same columns."""
    return '\n'.join([RENEWAL_LINE % ('HOST', 'ADDRESS', 'NAME (SNI)', 'SERIAL SERVED', 'STATE')]
                     + [row['line'] for row in rows])


class FilterModule(object):
    def filters(self):
        return {
            'acme_bundle_drift': acme_bundle_drift,
            'acme_cert_items': acme_cert_items,
            'acme_http01_files': acme_http01_files,
            'acme_shared_host_errors': acme_shared_host_errors,
            'acme_check_items': acme_check_items,
            'acme_duplicate_errors': acme_duplicate_errors,
            'acme_fetch_errors': acme_fetch_errors,
            'acme_eab_errors': acme_eab_errors,
            'acme_serves_fetchers': acme_serves_fetchers,
            'haproxy_acme_frontends': haproxy_acme_frontends,
            'nginx_acme_pairs': nginx_acme_pairs,
            'haproxy_acme_errors': haproxy_acme_errors,
            'renewal_rows': renewal_rows,
            'renewal_report': renewal_report,
        }
