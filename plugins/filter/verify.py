# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The site's verify report (playbooks/verify.yml): one row per host and check, from the public results the roles'
verify steps keep (lvs_dr_check, keepalived_check, haproxy_check, syslog_ng_check, nginx_acme_check,
oom_protect_check, the ACME renewal states) and the verify play's own cross-host probes (verify_arp,
verify_requests, verify_log_received, verify_request_logs)."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import urlsplit

from ansible.errors import AnsibleFilterError

LINE = '%-12s %-*s %-7s %s'
CHECK_WIDTH = 27   # at least; a longer check name widens the column of every line
NO_MAC = ('', '00:00:00:00:00:00')
ARP_MAC_RE = re.compile(r'\[([0-9a-f:]{17})\]')


def _lifetime(cert):
    """' of a 90-day lifetime, renewal from 2026-12-06T07:28:57Z in the CA's ARI window (2026-12-05T10:00:00Z to
    2026-12-07T10:00:00Z)' for a certificate that says both (hours under 10 days: a short-lived certificate; 'by
    lifetime' when the CA gave no window), else nothing."""
    hours = cert.get('lifetime_hours')
    if not isinstance(hours, int):
        return ''
    span = '%d-hour' % hours if hours < 240 else '%d-day' % round(hours / 24.0)
    window = cert.get('ari_window') if isinstance(cert.get('ari_window'), dict) else None
    how = (" in the CA's ARI window (%s to %s)" % (window.get('start'), window.get('end')) if window
           else ' by lifetime' if cert.get('renewal_by') == 'lifetime' else '')
    return ' of a %s lifetime%s' % (span, ', renewal from %s%s' % (cert['renew_at'], how) if cert.get('renew_at')
                                    else '')


def _entry_name(got):
    """The site of a challenge result: an entry of acme_certificate_check's challenges names it, a loop result of
    acme_challenge_check carries it in its item."""
    return got.get('name') or (got.get('item') or {}).get('name')


def _unique(values):
    seen, out = set(), []
    for value in values:
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


class _Report(object):
    """Reads the hosts' results (hostvars, or any host -> vars mapping) and collects the rows, section by section."""

    def __init__(self, hostvars, groups):
        self.hostvars = hostvars
        self.groups = groups
        self.rows = []

    def group(self, name):
        return list(self.groups.get(name) or [])

    def result(self, host, name):
        """The host's variable ``name`` when it is a dict (a registered result or a kept fact), else {}."""
        try:
            value = self.hostvars[host].get(name)
        except KeyError:
            return {}
        return value if isinstance(value, dict) else {}

    def loop_results(self, host, name):
        return [r for r in self.result(host, name).get('results') or [] if isinstance(r, dict)]

    def add(self, host, check, ok, detail, state=None):
        self.rows.append(dict(host=host, check=check, state=state or ('OK' if ok else 'DRIFT'), detail=detail))

    def run(self):
        macs = self.lvs_dr()
        self.keepalived()
        self.arp(macs)
        self.requests(self.certificate_files())
        self.oom()
        self.syslog_ng()
        self.haproxy()
        self.nginx_acme()
        self.acme_timers()
        width = max([CHECK_WIDTH] + [len(row['check']) for row in self.rows])
        return [dict(row, line=LINE % (row['host'], width, row['check'], row['state'], row['detail']))
                for row in self.rows]

    def lvs_dr(self):
        """A row per director and real server; returns the MAC address -> host map of their interfaces."""
        macs = {}
        for host in self.group('lvs_directors') + self.group('lvs_realservers'):
            res = self.result(host, 'lvs_dr_check')
            for row in res.get('effective') or []:
                if (row.get('hwaddr') or '') not in NO_MAC:
                    macs[row['hwaddr'].lower()] = host
            if 'ok' in res:
                detail = ('%d sysctl keys, %d interfaces, %d VIP(s) as expected, now and at boot (%d sysctl.d file(s))'
                          % (len(res.get('sysctls') or []), len(res.get('effective') or []), len(res.get('vips') or []),
                             len(res.get('boot_files') or []))) if res['ok'] else '; '.join(res.get('problems') or [])
            else:
                detail = res.get('msg') or 'no result (host unreachable or check not run)'
            self.add(host, 'lvs_dr_check', res.get('ok'), detail)
        return macs

    def keepalived(self):
        """A row per director, then per VRRP instance who holds its VIPs: exactly one director may."""
        instances = {}
        for host in self.group('lvs_directors'):
            res = self.result(host, 'keepalived_check')
            if 'instances' not in res:
                continue
            for item in res['instances']:
                instances.setdefault(item['name'], []).append(dict(
                    host=host, state=item.get('state'), held=item.get('held'), vips=item.get('vips') or [],
                    priority=item.get('effective_priority')))
            detail = (', '.join('%s %s' % (i['name'], i.get('state')) for i in res['instances']) if res.get('ok')
                      else '; '.join(res.get('problems') or []))
            self.add(host, 'keepalived_check', res.get('ok'), detail)
            self.ipvs(host, res.get('ipvs'))
        for name, members in instances.items():
            holders = [m for m in members if m['held']]
            peers = [m for m in members if not m['held']]
            ok = len(holders) == 1 and holders[0]['state'] == 'MASTER'
            held_by = ('%s (%s, priority %s)' % (' and '.join(m['host'] for m in holders),
                                                 '/'.join(_unique(str(m['state']) for m in holders)),
                                                 '/'.join(str(m['priority']) for m in holders))
                       if holders else 'nobody')
            vips = _unique(vip for m in members for vip in m['vips'])
            detail = '%s held by %s; %s' % (', '.join(vips) or '(no VIP read)', held_by,
                                            ', '.join('%s %s' % (m['host'], m['state']) for m in peers) or 'no peer')
            self.add(holders[0]['host'] if len(holders) == 1 else '-', 'vrrp ' + name, ok,
                     detail + ('' if ok else ': exactly one director must hold it'))

    def ipvs(self, host, ipvs):
        """A row per virtual service in a director's IPVS table (keepalived_check with its virtual servers): each real
        server (named by the host whose address it is) with its live weight and connections, and the expected ones
        missing from it (their health check fails)."""
        if not ipvs:
            return
        if not ipvs.get('available'):
            self.add(host, 'ipvs', False, ipvs.get('reason') or 'no IPVS table')
            return
        names = {}
        for name in sorted(self.hostvars):
            for var in ('ansible_host', 'lab_address', 'rolling_restart_address'):
                value = self.hostvars[name].get(var)
                if isinstance(value, str):
                    names.setdefault(value, name)
        problems = list(ipvs.get('drift') or []) + ['%s: down (not in the table)' % d for d in ipvs.get('down') or []]
        for service in ipvs.get('virtual_servers') or []:
            if service.get('fwmark') is not None:
                name, key = 'FWM %s' % service['fwmark'], 'FWM %s' % service['fwmark']
            else:
                name = ('[%s]:%s' if ':' in service['address'] else '%s:%s') % (service['address'], service['port'])
                key = '%s %s' % (service['protocol'], name)
            if key in (ipvs.get('extra') or []):
                continue
            mine = [p for p in problems if p.startswith(key + ':') or p.startswith(key + ' ->')]
            problems = [p for p in problems if p not in mine]
            reals = ['%s%s weight %s, %s active, %s inactive' % (
                '%s ' % names[r['address']] if r['address'] in names else '', '%s:%s' % (r['address'], r['port']),
                r['weight'], r['active'], r['inactive']) for r in service.get('real_servers') or []]
            forwards = _unique(r['forward'] for r in service.get('real_servers') or [])
            detail = '%s, %s (%s): %s' % (service['protocol'], service.get('scheduler'), '/'.join(forwards) or '-',
                                          '; '.join(reals) or 'no real server')
            self.add(host, 'ipvs ' + name, not mine, detail + ('; ' + '; '.join(mine) if mine else ''))
        for problem in problems:     # expected services missing from the table
            self.add(host, 'ipvs', False, problem)

    def arp(self, macs):
        """Per client and VIP, who answered ARP: only a director may."""
        directors = self.group('lvs_directors')
        for client in self.group('lvs_clients'):
            for probe in self.loop_results(client, 'verify_arp'):
                found = _unique(ARP_MAC_RE.findall(str(probe.get('stdout') or '').lower()))
                who = ['%s (%s)' % (macs.get(mac, 'unknown host'), mac) for mac in found]
                ok = bool(found) and all(macs.get(mac) in directors for mac in found)
                detail = 'VIP %s answered by %s' % (probe.get('item'), ', '.join(who) or 'nobody')
                self.add(client, 'arp %s' % probe.get('item'), ok,
                         detail + ('' if ok else ': only a director may answer (VIP hijack)'))

    def certificate_files(self):
        """Serial (lower case hex) -> 'host:file' of the balancers' TLS certificates and the web hosts' chains."""
        files = {}
        for host in self.group('haproxy'):
            for cert in self.result(host, 'haproxy_check').get('tls') or []:
                if cert.get('serial'):
                    files[str(cert['serial']).lower()] = '%s:%s' % (host, cert.get('cert'))
        for host in self.group('web'):
            checked = self.result(host, 'nginx_acme_check').get('certificates') or {}
            for cert in checked.get('certificates') or []:
                if cert.get('serial'):
                    files[str(cert['serial']).lower()] = '%s:%s' % (host, cert.get('cert'))
        return files

    def requests(self, files):
        """Per client request: its answer, the TLS policy, and which certificate file the address serves (once per
        address)."""
        for client in self.group('lvs_clients'):
            served = set()
            results = [res for res in self.loop_results(client, 'verify_requests') if 'url' in res]
            hosts = [urlsplit(str((res.get('item') or {}).get('url') or res['url'])).hostname for res in results]
            for res, name in zip(results, hosts, strict=True):
                item = res.get('item') or {}
                # A name asked through several addresses (the lab's two VIPs): each row says which.
                if hosts.count(name) > 1 and item.get('address'):
                    name = '%s via %s' % (name, item['address'])
                tls = res.get('tls') or {}
                verified = (', TLS %s verified for %s' % (tls.get('version'), tls.get('subject'))
                            if tls.get('verified') else '')
                lines = str(res.get('body') or '').splitlines()
                detail = ('%s via %s%s: %s' % (res.get('status'), res.get('peer'), verified,
                                               lines[0] if lines else '(empty body)')
                          if res.get('ok') else res.get('reason'))
                self.add(client, 'request %s' % name, res.get('ok'), detail)
                if 'policy' in tls:
                    self.policy_row(client, name, tls['policy'])
                if 'serial' in tls and (item.get('address') or name) not in served:
                    served.add(item.get('address') or name)
                    where = files.get(str(tls['serial']).lower(), '')
                    detail = ('serial %s for %s, the file %s' % (tls['serial'], tls.get('subject'), where) if where
                              else 'serial %s for %s is in no certificate file of the balancers or web hosts'
                              % (tls['serial'], tls.get('subject')))
                    self.add(client, 'served at %s' % (item.get('address') or name), where, detail)

    def policy_row(self, host, name, policy):
        self.add(host, 'tls policy %s' % name, policy.get('ok'), '%s (%s, SNI %s)' % (
            policy.get('summary'), policy.get('address'), policy.get('server_name')))

    def oom(self):
        for host in self.group('all'):
            if host == 'localhost':
                continue
            res = self.result(host, 'oom_protect_check')
            if 'status' not in res:
                continue
            state = {'ok': 'OK', 'limited': 'LIMITED'}.get(res['status'], 'DRIFT')
            unprotected = res.get('unprotected') or []
            if state == 'OK':
                targets = res.get('targets') or []
                detail = '%d target(s), %d process(es) at their expected value' % (
                    len(targets), sum(len(t.get('processes') or []) for t in targets))
            else:
                parts = [str(e.get('reason')) for e in res.get('exposed') or []]
                if unprotected:
                    parts.insert(0, '%s: %s' % (
                        ', '.join('%s wants %s' % (u.get('comm'), u.get('expected')) for u in unprotected),
                        '; '.join(_unique(str(u.get('reason')) for u in unprotected))))
                detail = '; '.join(parts)
            if len(res.get('active_killers') or []) > 1:
                detail += '; OOM killers: %s' % ', '.join(res['active_killers'])
            self.add(host, 'oom_score', None, detail, state=state)
            self.oom_event(host, res)

    def oom_event(self, host, res):
        """Where the kernel's log holds an OOM kill (a host with a kernel of its own), or a protected unit lost a
        process to one: the last kill, and whether every protected unit was spared."""
        kill = res.get('last_oom_kill')
        units = [t for t in res.get('targets') or [] if str(t.get('selector', '')).startswith('unit=')
                 and (t.get('expected') or 0) < 0 and t.get('oom_kills') is not None]
        hit = ['%s (%d)' % (t['selector'][5:], t['oom_kills']) for t in units if t['oom_kills'] > 0]
        if not kill and not hit:
            return
        detail = ''
        if kill:
            detail = 'last kill at %s: %s (pid %s, oom_score_adj %s)%s, %s since boot; ' % (
                kill.get('time'), kill.get('comm'), kill.get('pid'), kill.get('oom_score_adj'),
                " within a memory cgroup's limit" if kill.get('kind') == 'cgroup' else '',
                res.get('oom_kills_since_boot'))
        if hit:
            detail += 'protected units that lost processes to it: %s' % ', '.join(hit)
        else:
            detail += 'protected units untouched (%s)' % ', '.join(t['selector'][5:] for t in units)
        self.add(host, 'oom event', not hit, detail)

    def syslog_ng(self):
        """Per log host: the live configuration, the probe line, and the access log line of each client request."""
        for host in self.group('log_collectors') + self.group('log_clients'):
            res = self.result(host, 'syslog_ng_check')
            if 'syntax_ok' in res:
                detail = ('live configuration valid, daemon running' if res.get('ok')
                          else '; '.join(res.get('problems') or []))
                self.add(host, 'syslog_ng_check', res.get('ok'), detail)
            probe = self.result(host, 'verify_log_received').get('probe')
            if isinstance(probe, dict):
                detail = ('line arrived intact in %s after %ss' % (probe.get('path'), probe.get('latency'))
                          if probe.get('ok') else probe.get('reason'))
                self.add(host, 'log probe', probe.get('ok'), detail)
            programs = [((got.get('item') or {}).get('item') or {}).get('log_program')
                        for got in self.loop_results(host, 'verify_request_logs') if isinstance(got.get('probe'), dict)]
            for got in self.loop_results(host, 'verify_request_logs'):
                probe = got.get('probe')
                if not isinstance(probe, dict):
                    continue
                client = ', naming the client %s' % probe['client'] if 'client' in probe else ''
                detail = ('the line of request %s arrived in %s after %ss%s' % (
                    probe.get('marker'), probe.get('path'), probe.get('latency'), client)
                    if probe.get('ok') else probe.get('reason'))
                request = (got.get('item') or {}).get('item') or {}
                label = request.get('log_program')
                if programs.count(label) > 1 and request.get('address'):
                    label = '%s via %s' % (label, request['address'])
                self.add(host, 'access log %s' % label, probe.get('ok'), detail)

    def haproxy(self):
        """Per balancer: the live configuration and its servers, each TLS certificate held and served, the policy."""
        for host in self.group('haproxy'):
            res = self.result(host, 'haproxy_check')
            if 'syntax_ok' in res:
                # Every server up, whether the check counted DOWN ones as its problems or not.
                problems, down = list(res.get('problems') or []), res.get('down') or []
                if down and 'servers DOWN: %s' % ', '.join(down) not in problems:
                    problems.append('servers DOWN: %s' % ', '.join(down))
                ok = bool(res.get('ok')) and not problems
                detail = ('%d frontend(s), %d backend(s), all servers up' % (
                    len(res.get('frontends') or []), len(res.get('backends') or [])) if ok else '; '.join(problems))
                self.add(host, 'haproxy_check', ok, detail)
            for cert in res.get('tls') or []:
                problems = cert.get('problems', ['not checked'])
                detail = ('%s: serial %s held and served to %s-only clients for %s, %d days left%s' % (
                    cert.get('cert'), cert.get('serial'), str(cert.get('key_type')).upper(),
                    ', '.join(str(s.get('name')) for s in cert.get('served') or []), cert.get('days_left'),
                    _lifetime(cert)) if not problems else '; '.join(problems))
                self.add(host, 'tls %s %s %s' % (cert.get('frontend'), cert.get('bind'), cert.get('key_type')),
                         not problems, detail)
            for policy in res.get('tls_policies') or []:
                self.policy_row(host, policy.get('frontend'), policy)

    def nginx_acme(self):
        """Per web host: the challenge location, the dry run through the CA's path, each certificate, the policy."""
        for host in self.group('web'):
            res = self.result(host, 'nginx_acme_check')
            for got in res.get('challenge') or []:
                if 'domains' not in got:
                    continue
                detail = ('%s: token served, nothing outside the webroot readable' % ', '.join(
                    d.get('domain') for d in got['domains']) if got.get('ok') else '; '.join(got.get('failures') or []))
                self.add(host, 'acme challenge %s' % _entry_name(got), got.get('ok'), detail)
            for got in res.get('dry_run') or []:
                if 'domains' not in got:
                    continue
                thumbprint = str(got.get('thumbprint') or ((got.get('invocation') or {}).get('module_args') or {})
                                 .get('thumbprint') or '')
                detail = ("%s: %d random tokens answered <token>.%s... through the CA's path" % (
                    ', '.join(d.get('domain') for d in got['domains']),
                    sum(len(d.get('stateless') or []) for d in got['domains']), thumbprint[:8])
                    if got.get('ok') else '; '.join(got.get('failures') or []))
                self.add(host, 'acme dry-run %s' % _entry_name(got), got.get('ok'), detail)
            checked = res.get('certificates') or {}
            seen = set()
            for cert in checked.get('certificates') or []:
                problems = cert.get('problems') or []
                # A site's fullchain, then the bundle nginx loads: the second row of a pair names its file.
                row = 'certificate %s %s' % (cert.get('name'), cert.get('key_type'))
                if row in seen:
                    row += ' (%s)' % posixpath.basename(str(cert.get('cert')))
                seen.add(row)
                detail = ('%s, %d days left%s, chain of %d valid, served to %s-only clients' % (
                    cert.get('key'), cert.get('days_left'), _lifetime(cert), cert.get('chain_length'),
                    str(cert.get('key_type')).upper()) if not problems else '; '.join(problems))
                self.add(host, row, not problems, detail)
            for policy in checked.get('policies') or []:
                self.policy_row(host, policy.get('name'), policy)

    def acme_timers(self):
        """Per host with ACME certificates (a balancer's own, a web host's): its renewal timer and last run."""
        for host in _unique(self.group('haproxy') + self.group('web')):
            states = [(role, self.result(host, '%s_acme_renewal_state' % role)) for role in ('haproxy', 'nginx')]
            states = [(role, state) for role, state in states if isinstance(state.get('timer'), dict)]
            for role, state in states:
                timer, service = state['timer'], state.get('service') or {}
                ok = timer.get('ActiveState') == 'active' and service.get('Result') == 'success'
                exited = service.get('ExecMainExitTimestamp') or ''
                last = ('never ran' if exited in ('', 'n/a')
                        else 'last run %s: %s' % (exited, service.get('Result')))
                check = 'acme renewal timer' + (' (%s)' % role if len(states) > 1 else '')
                issuer = state.get('issuer') or host
                profiles = [str(p) for p in state.get('profiles') or [] if p]
                under = (" under the CA's profile %s" % ', '.join(profiles) if profiles
                         else " under the CA's default profile" if 'profiles' in state else '')
                source = ('orders its certificates%s' % under if issuer == host
                          else 'fetches its certificates from %s (after boot and hourly)' % issuer)
                self.add(host, check, ok, '%s; timer %s, next %s; %s' % (
                    source, timer.get('ActiveState', '?'), timer.get('NextElapseUSecRealtime', '?'), last))


def verify_rows(hostvars, groups):
    """hostvars and groups -> the report's rows: {host, check, state (OK, LIMITED or DRIFT), detail, line}."""
    if not hasattr(hostvars, '__getitem__') or not hasattr(groups, 'get'):
        raise AnsibleFilterError('verify_rows: expects hostvars | opsnotes.edge.verify_rows(groups)')
    return _Report(hostvars, groups).run()


def verify_report(rows):
    """The rows of verify_rows as a table: a header, then each row's line."""
    width = max([CHECK_WIDTH] + [len(row['check']) for row in rows])
    return '\n'.join([LINE % ('HOST', width, 'CHECK', 'STATE', 'DETAIL')] + [row['line'] for row in rows])


def verify_stats(rows):
    """The rows of verify_rows as a job's artifacts (set_stats): {ok, counts per state, the DRIFT and the LIMITED rows
    as {host, check, detail}}."""
    if not isinstance(rows, list) or not all(isinstance(row, dict) and 'state' in row for row in rows):
        raise AnsibleFilterError('verify_stats: expects the rows of opsnotes.edge.verify_rows')
    counts = dict((state, 0) for state in ('OK', 'LIMITED', 'DRIFT'))
    for row in rows:
        counts[row['state']] = counts.get(row['state'], 0) + 1

    def listed(state):
        return [dict(host=row['host'], check=row['check'], detail=row['detail']) for row in rows
                if row['state'] == state]
    return dict(ok=counts['DRIFT'] == 0, counts=counts, drift=listed('DRIFT'), limited=listed('LIMITED'))


class FilterModule(object):
    def filters(self):
        return {
            'verify_rows': verify_rows,
            'verify_report': verify_report,
            'verify_stats': verify_stats,
        }
