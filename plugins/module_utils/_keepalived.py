# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""keepalived configuration model: lint (errors naming the variable path) and rendering of keepalived.conf.

Shared by the preflight filter and the keepalived_config module. Config dict keys: global, vrrp_scripts,
track_processes, vrrp_instances, virtual_servers (see the keepalived role for the item keys).

keepalived reads a line as words; a double-quoted string is one word, and '#' or '!' outside one starts a comment.
Every value here is either of a strict type (names, addresses, numbers, keywords), which renders as a bare word,
or a script's argument vector, which renders as one double-quoted string of single-quoted words (script_words).
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.opsnotes.edge.plugins.module_utils._lint import ConfigLinter
from ansible_collections.opsnotes.edge.plugins.module_utils._quote import (
    Unsafe,
    abs_path,
    fullmatch,
    interface_name,
    ip_address,
    text,
)

VAR = 'keepalived_'
NAME_RE = r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}'
PROCESS_RE = r'[A-Za-z0-9_.:+@-]{1,15}'     # a process name as the kernel keeps it (comm: 15 characters)
AUTH_PASS_RE = r'[A-Za-z0-9_.+=@%-]{1,8}'   # keepalived uses the first 8 characters only: longer is refused
URL_PATH_RE = r'/[A-Za-z0-9._~/%?&=+:@,;-]*'
LB_ALGOS = ('rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos')
LB_KINDS = ('DR', 'NAT', 'TUN')
PROTOCOLS = ('TCP', 'UDP', 'SCTP')
STATES = ('BACKUP', 'MASTER')
CHECKS = ('HTTP_GET', 'SSL_GET', 'TCP_CHECK', 'MISC_CHECK')
NOTIFY = ('notify_master', 'notify_backup', 'notify_fault', 'notify_stop', 'notify')


def script_words(argv):
    """A script's argument vector as keepalived's configuration reads it back word for word: one double-quoted
    string of single-quoted words (blanks, '#', '!', '$', braces and the like stay inside their word). A double
    quote ends the string at the line level; a single quote or a backslash is unescaped twice by keepalived 2.1 and
    2.2 and once by 2.3: no spelling reads back the same on every supported version, so the three are refused, as
    are control characters. The first word is the program, an absolute path (keepalived runs it without a shell)."""
    if not isinstance(argv, list) or not argv:
        raise Unsafe('must be a non-empty list: the program (an absolute path) and its arguments, one word each')
    words = [text(word, 'an argument', empty=True) for word in argv]
    abs_path(words[0], 'the program')
    for word in words:
        bad = sorted(set(word) & set('"\'\\'))
        if bad:
            raise Unsafe('%r: %s has no spelling keepalived reads back the same on every version (put the command in '
                         'a script file and name that)' % (word, ' and '.join(repr(c) for c in bad)))
    return '"%s"' % ' '.join("'%s'" % word for word in words)


def _vip(value):
    """A virtual address: ADDRESS or ADDRESS/PREFIX (the compressed form back)."""
    if not isinstance(value, str):
        raise Unsafe('%r is not an address or ADDRESS/PREFIX' % (value,))
    address, sep, length = value.partition('/')
    ip_address(address)
    if sep:
        try:
            return str(ipaddress.ip_interface(value))
        except ValueError:
            raise Unsafe('%r: the prefix length is not valid for the address' % (value,)) from None
    return address


class Linter(ConfigLinter):
    def name(self, where, value):
        if not fullmatch(NAME_RE, value):
            self.err(where, '%r must be 1-64 characters of A-Z a-z 0-9 _ . - (not starting with . or -)' % (value,))
            return False
        return True

    def unique(self, where, value, seen, what):
        """``value`` once in ``seen``; a second time is an error naming ``where``."""
        if value in seen:
            self.err(where, '%r is already defined (%s)' % (value, what))
        seen.add(value)

    def references(self, where, values, defined, what):
        for index, value in enumerate(values or []):
            name = value.get('name') if isinstance(value, dict) else value
            here = '%s[%d]' % (where, index)
            if not isinstance(name, str) or name not in defined:
                self.err(here, '%r is not a defined %s' % (name, what))
            elif isinstance(value, dict):
                self.integer(here + '.weight', value.get('weight'), -254, 254)

    def run(self):
        cfg = self.config
        glob = cfg.get('global') or {}
        if glob.get('router_id') is not None:
            self.name(VAR + 'router_id', glob['router_id'])
        scripts, processes = set(), set()
        for where, item in self.items(cfg.get('vrrp_scripts'), VAR + 'vrrp_scripts'):
            if self.name(where + '.name', item.get('name')):
                self.unique(where + '.name', item['name'], scripts, 'a vrrp_script')
            self.check(where + '.script', script_words, item.get('script'))
            for key, low, high in (('interval', 1, 3600), ('timeout', 1, 3600), ('rise', 1, 100), ('fall', 1, 100)):
                self.integer('%s.%s' % (where, key), item.get(key), low, high)
            self.integer(where + '.weight', item.get('weight'), -254, 254)
        for where, item in self.items(cfg.get('track_processes'), VAR + 'track_processes'):
            if self.name(where + '.name', item.get('name')):
                self.unique(where + '.name', item['name'], processes, 'a track_process')
            if not fullmatch(PROCESS_RE, item.get('process')):
                self.err(where + '.process', '%r must be a process name (1-15 characters of A-Z a-z 0-9 _ . : + @ -)'
                         % (item.get('process'),))
            self.integer(where + '.weight', item.get('weight'), -254, 254)
            self.integer(where + '.quorum', item.get('quorum'), 1, 65535)
            self.integer(where + '.delay', item.get('delay'), 0, 3600)
        self.instances(cfg.get('vrrp_instances'), scripts, processes)
        self.virtual_servers(cfg.get('virtual_servers'))
        return self

    def instances(self, value, scripts, processes):
        names, routers = set(), set()
        for where, item in self.items(value, VAR + 'vrrp_instances'):
            if self.name(where + '.name', item.get('name')):
                self.unique(where + '.name', item['name'], names, 'a vrrp_instance')
            self.check(where + '.interface', interface_name, item.get('interface'))
            self.integer(where + '.virtual_router_id', item.get('virtual_router_id'), 1, 255, required=True)
            if item.get('virtual_router_id') is not None:
                router = (item.get('interface'), item['virtual_router_id'])
                self.unique(where + '.virtual_router_id', router, routers,
                            'the same virtual_router_id on this interface')
            self.integer(where + '.priority', item.get('priority'), 1, 254, required=True)
            self.integer(where + '.advert_int', item.get('advert_int'), 1, 255)
            self.choice(where + '.state', item.get('state'), STATES)
            self.flag(where + '.nopreempt', item.get('nopreempt'))
            if item.get('nopreempt') and item.get('state') == 'MASTER':
                self.err(where + '.nopreempt', 'needs state BACKUP (keepalived ignores nopreempt with state MASTER)')
            if item.get('unicast_src_ip') is not None:
                self.check(where + '.unicast_src_ip', ip_address, item['unicast_src_ip'])
            for index, peer in enumerate(item.get('unicast_peers') or []):
                self.check('%s.unicast_peers[%d]' % (where, index), ip_address, peer)
            if item.get('auth_pass') is not None and not fullmatch(AUTH_PASS_RE, item['auth_pass']):
                self.err(where + '.auth_pass', 'must be 1-8 characters of A-Z a-z 0-9 _ . + = @ %% - (keepalived '
                                               'uses the first 8 only)')
            vips = item.get('virtual_ipaddresses')
            if not isinstance(vips, list) or not vips:
                self.err(where + '.virtual_ipaddresses', 'must be a non-empty list of ADDRESS or ADDRESS/PREFIX')
            else:
                families = set()
                for index, vip in enumerate(vips):
                    vwhere = '%s.virtual_ipaddresses[%d]' % (where, index)
                    address = self.vip_options(vwhere, vip, item.get('interface'))
                    if self.check(vwhere, _vip, address):
                        families.add(ipaddress.ip_interface(address).version)
                if len(families) > 1:
                    self.err(where + '.virtual_ipaddresses', 'mixes IPv4 and IPv6 addresses: a VRRP instance '
                             'is of one address family, and keepalived ignores the addresses of the other ("address '
                             'family must match VRRP instance"); give each family a vrrp_instance of its own')
            self.integer(where + '.garp_master_delay', item.get('garp_master_delay'), 0, 255)
            for key in ('accept', 'smtp_alert'):
                self.flag('%s.%s' % (where, key), item.get(key))
            tracked = item.get('track_interfaces')
            if tracked is not None and not isinstance(tracked, list):
                self.err(where + '.track_interfaces', 'must be a list of interface names or {name, weight}')
                tracked = []
            for index, entry in enumerate(tracked or []):
                twhere = '%s.track_interfaces[%d]' % (where, index)
                name = entry.get('name') if isinstance(entry, dict) else entry
                if self.check(twhere, interface_name, name) and name == item.get('interface'):
                    self.err(twhere, '%r is the instance\'s own interface, which keepalived tracks already (it ignores '
                             'the entry, and --config-test fails)' % (name,))
                if isinstance(entry, dict):
                    self.integer(twhere + '.weight', entry.get('weight'), -253, 253)
            self.references(where + '.track_scripts', item.get('track_scripts'), scripts, 'vrrp_script')
            self.references(where + '.track_processes', item.get('track_processes'), processes, 'track_process')
            for key in NOTIFY:
                if item.get(key) is not None:
                    self.check('%s.%s' % (where, key), script_words, item[key])

    def vip_options(self, where, vip, interface):
        """The address of a virtual_ipaddresses item: ADDRESS[/PREFIX], or {address, dev, label}: another device
        than the instance's interface, and a label (ip addr's, DEV or DEV:SUFFIX, at most 15 characters)."""
        if not isinstance(vip, dict):
            return vip
        unknown = sorted(set(vip) - {'address', 'dev', 'label'})
        if unknown:
            self.err(where, 'unknown key(s) %s (address, dev, label)' % ', '.join(unknown))
        dev = vip.get('dev') if vip.get('dev') is not None else interface
        if vip.get('dev') is not None:
            self.check(where + '.dev', interface_name, vip['dev'])
        label = vip.get('label')
        if label is not None and (not isinstance(label, str) or len(label) > 15 or
                                  not re.fullmatch(r'[A-Za-z0-9_.:-]+', label) or
                                  not (label == dev or label.startswith('%s:' % dev))):
            self.err(where + '.label', '%r must be the device name %r or %r followed by ":" and a suffix, at most 15 '
                     'characters of A-Z a-z 0-9 _ . : -' % (label, dev, dev))
        return vip.get('address')

    def virtual_servers(self, value):
        seen = set()
        for where, item in self.items(value, VAR + 'virtual_servers'):
            self.check(where + '.address', ip_address, item.get('address'))
            self.integer(where + '.port', item.get('port'), 1, 65535, required=True)
            self.choice(where + '.protocol', item.get('protocol'), PROTOCOLS)
            key = (item.get('address'), item.get('port'), item.get('protocol') or 'TCP')
            self.unique(where + '.port', key, seen, 'a virtual_server with this address, port and protocol')
            self.choice(where + '.lb_algo', item.get('lb_algo'), LB_ALGOS)
            self.choice(where + '.lb_kind', item.get('lb_kind'), LB_KINDS)
            for key, low, high in (('delay_loop', 1, 3600), ('persistence_timeout', 1, 2678400),
                                   ('quorum', 1, 65535), ('hysteresis', 0, 65535)):
                self.integer('%s.%s' % (where, key), item.get(key), low, high)
            sorry = item.get('sorry_server')
            if sorry is not None:
                if not isinstance(sorry, dict):
                    self.err(where + '.sorry_server', 'must be a dict {address, port}')
                else:
                    self.check(where + '.sorry_server.address', ip_address, sorry.get('address'))
                    self.integer(where + '.sorry_server.port', sorry.get('port'), 1, 65535, required=True)
            reals = self.items(item.get('real_servers'), where + '.real_servers')
            if not reals and not isinstance(item.get('real_servers'), list):
                self.err(where + '.real_servers', 'must be a list of {address, port, weight, check}')
            real_seen = set()
            for rwhere, real in reals:
                self.check(rwhere + '.address', ip_address, real.get('address'))
                self.integer(rwhere + '.port', real.get('port'), 1, 65535, required=True)
                self.unique(rwhere + '.address', (real.get('address'), real.get('port')), real_seen,
                            'a real server of this virtual server')
                # Direct routing and tunnelling forward the packet unchanged: the real server gets the VIP's port.
                if (item.get('lb_kind') or 'DR') in ('DR', 'TUN') and real.get('port') is not None \
                        and str(real.get('port')) != str(item.get('port')):
                    self.err(rwhere + '.port', '%r must be the virtual server\'s port %r with lb_kind %s (the packet '
                                               'reaches the real server unchanged)'
                             % (real.get('port'), item.get('port'), item.get('lb_kind') or 'DR'))
                self.integer(rwhere + '.weight', real.get('weight'), 0, 65535)
                if real.get('check') is not None:
                    self.health_check(rwhere + '.check', real['check'])

    def health_check(self, where, check):
        if not isinstance(check, dict):
            self.err(where, 'must be a dict {type, ...}')
            return
        kind = check.get('type')
        self.choice(where + '.type', kind, CHECKS, required=True)
        for key, low, high in (('connect_timeout', 1, 3600), ('connect_port', 1, 65535), ('retry', 0, 100),
                               ('delay_before_retry', 0, 3600), ('status_code', 100, 599), ('misc_timeout', 1, 3600)):
            self.integer('%s.%s' % (where, key), check.get(key), low, high)
        if kind in ('HTTP_GET', 'SSL_GET'):
            path = check.get('path') or '/'
            if not fullmatch(URL_PATH_RE, path):
                self.err(where + '.path', '%r must be a URL path (/ and A-Z a-z 0-9 . _ ~ / %% ? & = + : @ , ; -)'
                         % (path,))
        elif check.get('path') is not None:
            self.err(where + '.path', 'only applies to HTTP_GET and SSL_GET')
        if kind == 'MISC_CHECK':
            self.check(where + '.misc_path', script_words, check.get('misc_path'))
        elif check.get('misc_path') is not None:
            self.err(where + '.misc_path', 'only applies to MISC_CHECK')


lint = Linter.lint


def _block(out, indent, head, lines):
    out.append('%s%s {' % ('  ' * indent, head))
    out.extend('%s%s' % ('  ' * (indent + 1), line) for line in lines)
    out.append('%s}' % ('  ' * indent))


def _set(lines, item, *keys):
    for key in keys:
        if item.get(key) is not None:
            lines.append('%s %d' % (key, int(item[key])))


def _tracked(values):
    out = []
    for value in values or []:
        if isinstance(value, dict):
            out.append(value['name'] + (' weight %d' % int(value['weight']) if value.get('weight') is not None else ''))
        else:
            out.append(value)
    return out


def _vip_line(vip, interface):
    """One line of a virtual_ipaddress block: ADDRESS dev DEV [label LABEL]."""
    if not isinstance(vip, dict):
        return '%s dev %s' % (_vip(vip), interface)
    line = '%s dev %s' % (_vip(vip['address']), vip.get('dev') or interface)
    return line + (' label %s' % vip['label'] if vip.get('label') else '')


def render_instance(item):
    lines = ['state %s' % (item.get('state') or 'BACKUP'), 'interface %s' % item['interface'],
             'virtual_router_id %d' % int(item['virtual_router_id']), 'priority %d' % int(item['priority']),
             'advert_int %d' % int(item.get('advert_int') or 1)]
    if item.get('nopreempt'):
        lines.append('nopreempt')
    _set(lines, item, 'garp_master_delay')
    lines += [key for key in ('accept', 'smtp_alert') if item.get(key)]
    if item.get('unicast_src_ip'):
        lines.append('unicast_src_ip %s' % ip_address(item['unicast_src_ip']))
    inner = []
    if item.get('unicast_peers'):
        inner.append(('unicast_peer', [ip_address(p) for p in item['unicast_peers']]))
    if item.get('auth_pass'):
        inner.append(('authentication', ['auth_type PASS', 'auth_pass %s' % item['auth_pass']]))
    inner.append(('virtual_ipaddress', [_vip_line(vip, item['interface']) for vip in item['virtual_ipaddresses']]))
    if item.get('track_interfaces'):
        inner.append(('track_interface', _tracked(item['track_interfaces'])))
    if item.get('track_scripts'):
        inner.append(('track_script', _tracked(item['track_scripts'])))
    if item.get('track_processes'):
        inner.append(('track_process', _tracked(item['track_processes'])))
    out = []
    for head, body in inner:
        _block(out, 0, head, body)
    lines += out
    lines += ['%s %s' % (key, script_words(item[key])) for key in NOTIFY if item.get(key)]
    return lines


def render_virtual_server(item):
    lines = ['delay_loop %d' % int(item.get('delay_loop') or 6), 'lb_algo %s' % (item.get('lb_algo') or 'wlc'),
             'lb_kind %s' % (item.get('lb_kind') or 'DR'), 'protocol %s' % (item.get('protocol') or 'TCP')]
    _set(lines, item, 'persistence_timeout', 'quorum', 'hysteresis')
    if item.get('sorry_server'):
        sorry = item['sorry_server']
        lines.append('sorry_server %s %d' % (ip_address(sorry['address']), int(sorry['port'])))
    out = []
    for real in item.get('real_servers') or []:
        body = ['weight %d' % int(real.get('weight') if real.get('weight') is not None else 1)]
        check = real.get('check')
        if check:
            inner = []
            if check['type'] in ('HTTP_GET', 'SSL_GET'):
                url = ['path %s' % (check.get('path') or '/'), 'status_code %d' % int(check.get('status_code') or 200)]
                _block(inner, 0, 'url', url)
            if check['type'] == 'MISC_CHECK':
                inner.append('misc_path %s' % script_words(check['misc_path']))
                _set(inner, check, 'misc_timeout')
            _set(inner, check, 'connect_timeout', 'connect_port', 'retry', 'delay_before_retry')
            _block(body, 0, check['type'], inner)
        _block(out, 0, 'real_server %s %d' % (ip_address(real['address']), int(real['port'])), body)
    return lines + out


def render(config, header=None):
    glob = config.get('global') or {}
    out = ['# ' + line for line in (header or '').splitlines()]
    # Scripts run as root, and keepalived refuses one that a non-root user could change.
    defs = ['enable_script_security', 'script_user root']
    if glob.get('router_id'):
        defs.insert(0, 'router_id %s' % glob['router_id'])
    _block(out, 0, 'global_defs', defs)
    for item in config.get('vrrp_scripts') or []:
        lines = ['script %s' % script_words(item['script']), 'interval %d' % int(item.get('interval') or 2)]
        _set(lines, item, 'timeout', 'weight', 'rise', 'fall')
        out.append('')
        _block(out, 0, 'vrrp_script %s' % item['name'], lines)
    for item in config.get('track_processes') or []:
        lines = ['process %s' % item['process']]
        _set(lines, item, 'weight', 'quorum', 'delay')
        out.append('')
        _block(out, 0, 'vrrp_track_process %s' % item['name'], lines)
    for item in config.get('vrrp_instances') or []:
        out.append('')
        _block(out, 0, 'vrrp_instance %s' % item['name'], render_instance(item))
    for item in config.get('virtual_servers') or []:
        out.append('')
        _block(out, 0, 'virtual_server %s %d' % (ip_address(item['address']), int(item['port'])),
               render_virtual_server(item))
    return '\n'.join(out) + '\n'


def redact(text):
    """``text`` with the VRRP passwords replaced, for results, diffs and messages."""
    return re.sub(r'^(\s*auth_pass )\S+', r'\1<redacted>', text or '', flags=re.M)
