# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The kernel's IPVS table, read from ``ipvsadm -Ln --exact`` or ``/proc/net/ip_vs``, and compared with the virtual
servers a director should have.

Both sources give, per virtual service, a line ``PROT ADDRESS:PORT SCHEDULER [FLAGS]`` (``FWM MARK SCHEDULER`` for a
firewall mark) followed by one ``  -> ADDRESS:PORT FORWARD WEIGHT ACTIVECONN INACTCONN`` line per real server.
/proc/net/ip_vs writes IPv4 addresses and every port as upper-case hex, IPv6 addresses in full inside brackets, the
persistence as ``persistent SECONDS NETMASK(hex)``; ipvsadm writes them in decimal and compressed form,
``persistent SECONDS [mask NETMASK]``. A virtual service is keyed by protocol, address and port (or mark).
"""

from __future__ import annotations

import ipaddress
import os
import re

FORWARD = {'route': 'dr', 'masq': 'nat', 'tunnel': 'tun', 'local': 'local', 'bypass': 'bypass'}
PROTOCOLS = ('TCP', 'UDP', 'SCTP')
_ENDPOINT = re.compile(r'^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f.]+):([0-9A-Fa-f]+)$')


class ParseError(ValueError):
    """A line of the table that is not in either format."""


def _address(text, hexadecimal):
    """An address of the table in canonical form ('10.0.0.1', '2001:db8::1')."""
    text = text.strip('[]')
    if hexadecimal and ':' not in text and '.' not in text:
        return str(ipaddress.IPv4Address(int(text, 16)))
    return str(ipaddress.ip_address(text))


def _endpoint(text, hexadecimal):
    match = _ENDPOINT.match(text)
    if not match:
        raise ParseError('%r is not ADDRESS:PORT' % text)
    return _address(match.group(1), hexadecimal), int(match.group(2), 16 if hexadecimal else 10)


def _rows(text):
    """(line number, line, its words) of each virtual-service and real-server line of an ipvsadm listing or of
    /proc/net/ip_vs, the headers left out."""
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if words and not line.startswith(('IP Virtual Server', 'Prot ')) and words[:2] != ['->', 'RemoteAddress:Port']:
            yield number, line, words


def _bad_line(number, line, exc):
    return ParseError('line %d (%r): %s' % (number, line.strip(), exc))


def parse(text, hexadecimal):
    """The virtual services of a table: [{protocol, address, port, fwmark, scheduler, persistent, netmask, ops,
    real_servers: [{address, port, forward, weight, active, inactive}]}]. ``hexadecimal``: /proc/net/ip_vs."""
    services = []
    for number, line, words in _rows(text):
        try:
            if words[0] == '->':
                if not services or len(words) < 4:
                    raise ParseError('a real server outside a virtual service')
                address, port = _endpoint(words[1], hexadecimal)
                services[-1]['real_servers'].append(dict(
                    address=address, port=port, forward=FORWARD.get(words[2].lower(), words[2].lower()),
                    weight=int(words[3]), active=int(words[4]) if len(words) > 4 else 0,
                    inactive=int(words[5]) if len(words) > 5 else 0))
                continue
            if len(words) < 3:
                raise ParseError('too few fields')
            service = dict(protocol=words[0].upper(), address=None, port=None, fwmark=None, scheduler=words[2],
                           persistent=None, netmask=None, ops=False, real_servers=[])
            if service['protocol'] == 'FWM':
                service['fwmark'] = int(words[1], 16 if hexadecimal else 10)
            elif service['protocol'] in PROTOCOLS:
                service['address'], service['port'] = _endpoint(words[1], hexadecimal)
            else:
                raise ParseError('unknown protocol %r' % words[0])
            flags = words[3:]
            service['ops'] = 'ops' in flags
            if 'persistent' in flags:
                index = flags.index('persistent')
                service['persistent'] = int(flags[index + 1])
                if hexadecimal and len(flags) > index + 2:
                    # The persistence granularity: a netmask for IPv4, a prefix length for IPv6.
                    mask = int(flags[index + 2], 16)
                    service['netmask'] = ('/%d' % mask if service['address'] and ':' in service['address']
                                          else str(ipaddress.IPv4Address(mask)))
            if 'mask' in flags:
                service['netmask'] = flags[flags.index('mask') + 1]
            elif service['persistent'] is not None and service['netmask'] is None:
                # ipvsadm leaves out the granularity when it is one client address.
                service['netmask'] = '/128' if service['address'] and ':' in service['address'] else '255.255.255.255'
            services.append(service)
        except (ValueError, IndexError) as exc:
            raise _bad_line(number, line, exc) from None
    return services


def endpoint(address, port):
    """ADDRESS:PORT as ipvsadm writes it, an IPv6 address in brackets."""
    return '%s:%d' % ('[%s]' % address if ':' in address else address, int(port))


def key(service):
    if service.get('fwmark') is not None:
        return 'FWM %d' % int(service['fwmark'])
    return '%s %s' % (service.get('protocol', 'TCP').upper(),
                      endpoint(str(ipaddress.ip_address(service['address'])), service['port']))


def compare(expected, actual, down=None):
    """Sentences naming each difference between the ``expected`` virtual services ([{protocol, address, port |
    fwmark, scheduler, persistent, forward, real_servers: [{address, port, weight}]}]; a real server's port defaults
    to the service's, ``forward`` to dr) and the ``actual`` table; [] when they agree. Connection counters are not
    compared, nor services that are in the table but not expected (``extra`` lists them). With a list ``down``, an
    expected real server missing from the table (a health checker such as keepalived's takes out a server that fails
    its check) is appended there ('TCP VIP:PORT -> ADDRESS:PORT') instead of being drift."""
    found = {key(service): service for service in actual}
    drift = []
    for want in expected:
        name = key(want)
        have = found.get(name)
        if have is None:
            drift.append('%s: not in the table' % name)
            continue
        if want.get('scheduler') and want['scheduler'] != have['scheduler']:
            drift.append('%s: scheduler %s, not %s' % (name, have['scheduler'], want['scheduler']))
        if (want.get('persistent') or None) != have['persistent']:
            drift.append('%s: persistence %s, not %s' % (name, have['persistent'] or 'off',
                                                         want.get('persistent') or 'off'))
        servers = {(r['address'], r['port']): r for r in have['real_servers']}
        wanted = set()
        for real in want.get('real_servers') or []:
            address = str(ipaddress.ip_address(real['address']))
            port = int(real.get('port') or want.get('port') or 0)
            wanted.add((address, port))
            label = '%s -> %s' % (name, endpoint(address, port))
            got = servers.get((address, port))
            if got is None:
                if down is not None:
                    down.append(label)
                else:
                    drift.append('%s: not in the table (its health check fails, or it was never added)' % label)
                continue
            forward = want.get('forward') or 'dr'
            if got['forward'] != forward:
                drift.append('%s: forwarding %s, not %s' % (label, got['forward'], forward))
            if real.get('weight') is not None and int(real['weight']) != got['weight']:
                drift.append('%s: weight %d, not %d' % (label, got['weight'], int(real['weight'])))
        for (address, port) in sorted(set(servers) - wanted):
            drift.append('%s -> %s: in the table, not expected' % (name, endpoint(address, port)))
    return drift


def extra(expected, actual):
    """Keys of the virtual services in the table that are not expected."""
    wanted = {key(service) for service in expected}
    return [key(service) for service in actual if key(service) not in wanted]


def from_keepalived(virtual_servers):
    """keepalived's virtual servers (as opsnotes.edge.keepalived_config takes them: {address, port | fwmark,
    protocol, lb_algo, lb_kind, persistence_timeout, real_servers: [{address, port, weight}]}) as ``compare``
    expects them, with keepalived's defaults (wlc, DR, weight 1)."""
    out = []
    for item in virtual_servers:
        service = dict(protocol=(item.get('protocol') or 'tcp').upper(), scheduler=item.get('lb_algo') or 'wlc',
                       persistent=int(item.get('persistence_timeout') or 0) or None,
                       forward=(item.get('lb_kind') or 'dr').lower(),
                       real_servers=[dict(address=real['address'], port=real.get('port'),
                                          weight=1 if real.get('weight') is None else int(real['weight']))
                                     for real in item.get('real_servers') or []])
        if item.get('fwmark') is not None:
            service['fwmark'] = int(item['fwmark'])
        else:
            service.update(address=item.get('address'), port=int(item.get('port') or 0))
        out.append(service)
    return out


PROC = '/proc/net/ip_vs'


def read_table(module, source='auto'):
    """(source, text, hexadecimal) of the kernel's table: ``ipvsadm -Ln --exact`` where ipvsadm is installed (and
    ``source`` allows it), else /proc/net/ip_vs; (None, reason, None) when this kernel has no IPVS to read."""
    ipvsadm = module.get_bin_path('ipvsadm') if source in ('auto', 'ipvsadm') else None
    if source == 'ipvsadm' and not ipvsadm:
        module.fail_json(msg='source=ipvsadm, but ipvsadm is not installed')
    if not os.path.exists(PROC):
        return None, 'this kernel has no IPVS (%s does not exist; CONFIG_IP_VS unset or ip_vs not loaded)' % PROC, None
    if ipvsadm:
        rc, out, err = module.run_command([ipvsadm, '-Ln', '--exact'])
        if rc != 0:
            module.fail_json(msg='ipvsadm -Ln --exact failed: %s' % (err or out).strip())
        return 'ipvsadm', out, False
    with open(PROC) as handle:
        return 'proc', handle.read(), True


def inspect(module, expected, source='auto', split_down=False):
    """The live table judged against ``expected`` (as ``compare`` takes it): {available, source, virtual_servers,
    drift, extra} and, with ``split_down``, ``down`` (expected real servers missing from the table, not drift);
    ``reason`` when this kernel has no table. Fails the module on a table it cannot read."""
    source, text, hexadecimal = read_table(module, source)
    result = dict(available=source is not None, source=source, virtual_servers=[], drift=[], extra=[])
    if split_down:
        result['down'] = []
    if source is None:
        result['reason'] = text
        return result
    try:
        result['virtual_servers'] = parse(text, hexadecimal)
    except ParseError as exc:
        module.fail_json(msg='cannot read the IPVS table (%s): %s' % (source, exc), **result)
    result['drift'] = compare(expected, result['virtual_servers'], down=result.get('down'))
    result['extra'] = extra(expected, result['virtual_servers'])
    return result


FORWARD_FLAGS = {'dr': '-g', 'local': '-g', 'tun': '-i', 'nat': '-m'}
SERVICE_FLAGS = {'TCP': '-t', 'UDP': '-u', 'SCTP': '--sctp-service'}


def thresholds(text):
    """{(service key, real address, real port): (upper, lower)} from ``ipvsadm -Ln --exact --thresholds``, whose
    real-server lines carry the connection thresholds where the plain listing has the forwarding method and the
    weight."""
    out, service = {}, None
    for number, line, words in _rows(text):
        try:
            if words[0] == '->':
                if service is None or len(words) < 4:
                    raise ParseError('a real server outside a virtual service')
                address, port = _endpoint(words[1], False)
                out[(service, address, port)] = (int(words[2]), int(words[3]))
            elif words[0].upper() == 'FWM':
                service = 'FWM %d' % int(words[1])
            elif words[0].upper() in PROTOCOLS:
                address, port = _endpoint(words[1], False)
                service = '%s %s' % (words[0].upper(), endpoint(address, port))
            else:
                raise ParseError('unknown protocol %r' % words[0])
        except (ValueError, IndexError) as exc:
            raise _bad_line(number, line, exc) from None
    return out


def edit_argv(service, real, weight, upper=0, lower=0):
    """The arguments of ``ipvsadm -e`` that set ``real``'s weight in ``service`` (both as parse returns them) and
    keep the rest: ipvsadm's edit resets what it is not given (forwarding to direct routing, thresholds to 0)."""
    forward = FORWARD_FLAGS.get(real['forward'])
    if forward is None:
        where = endpoint(real['address'], real['port'])
        raise ValueError('%s -> %s: forwarding %s cannot be edited' % (key(service), where, real['forward']))
    if service.get('fwmark') is not None:
        where = ['-f', str(service['fwmark'])] + (['-6'] if ':' in real['address'] else [])
    else:
        where = [SERVICE_FLAGS[service['protocol']], endpoint(service['address'], service['port'])]
    return (['-e'] + where + ['-r', endpoint(real['address'], real['port']), forward, '-w', str(int(weight)),
                              '-x', str(int(upper)), '-y', str(int(lower))])
