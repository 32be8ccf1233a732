# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A stand-in for ipvsadm on a kernel without IPVS: a table kept in a JSON file, listed as ``ipvsadm -Ln --exact``
(and ``--thresholds``) prints it, and edited by ``ipvsadm -e`` with ipvsadm's defaults for what is not given
(weight 1, direct routing, thresholds 0), so a caller that forgets to pass them back is caught.

Used in-process by the unit tests (FakeIpvsadm(state).run) and run as ipvsadm in a container by the
molecule test of the rolling restart (state file: $FAKE_IPVSADM_STATE, default /run/fake-ipvsadm.json). Each
edit is appended to the state's "log". A real server's "active" count is set by the test, standing in for the
connections a client holds.
"""

from __future__ import annotations

import json
import os
import sys

FORWARD_NAMES = {'-g': 'Route', '-i': 'Tunnel', '-m': 'Masq'}
SERVICE_FLAGS = {'-t': 'TCP', '-u': 'UDP', '--sctp-service': 'SCTP', '-f': 'FWM'}


def _endpoint(text):
    address, _sep, port = text.rpartition(':')
    return address.strip('[]'), int(port)


def _shown(address, port):
    return '%s:%d' % ('[%s]' % address if ':' in address else address, port)


class FakeIpvsadm(object):
    def __init__(self, state):
        self.state = state
        self.state.setdefault('log', [])

    def listing(self, thresholds=False):
        lines = ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags',
                 '  -> RemoteAddress:Port           ' + ('Uthreshold Lthreshold ActiveConn InActConn' if thresholds
                                                         else 'Forward Weight ActiveConn InActConn')]
        for service in self.state['services']:
            where = (str(service['fwmark']) if service['protocol'] == 'FWM'
                     else _shown(service['address'], service['port']))
            lines.append('%s  %s %s' % (service['protocol'], where, service.get('scheduler', 'wlc')))
            for real in service['real_servers']:
                name = _shown(real['address'], real['port'])
                counts = (real.get('active', 0), real.get('inactive', 0))
                if thresholds:
                    values = (name, real.get('u', 0), real.get('l', 0)) + counts
                    lines.append('  -> %-28s %-10d %-10d %-10d %-10d' % values)
                else:
                    values = (name, real.get('forward', 'Route'), real['weight']) + counts
                    lines.append('  -> %-28s %-7s %-6d %-10d %-10d' % values)
        return '\n'.join(lines) + '\n'

    def find(self, protocol, where, ipv6):
        for service in self.state['services']:
            if service['protocol'] != protocol:
                continue
            if protocol == 'FWM':
                reals = service['real_servers']
                if service['fwmark'] == int(where) and (not reals or (':' in reals[0]['address']) == ipv6):
                    return service
            elif (service['address'], service['port']) == _endpoint(where):
                return service
        return None

    def edit(self, argv):
        protocol = where = real = None
        dest = dict(forward='Route', weight=1, u=0, l=0)
        ipv6 = '-6' in argv
        words = [w for w in argv if w not in ('-e', '-6')]
        while words:
            flag = words.pop(0)
            if flag in SERVICE_FLAGS:
                protocol, where = SERVICE_FLAGS[flag], words.pop(0)
            elif flag == '-r':
                real = _endpoint(words.pop(0))
            elif flag in FORWARD_NAMES:
                dest['forward'] = FORWARD_NAMES[flag]
            elif flag in ('-w', '-x', '-y'):
                dest[{'-w': 'weight', '-x': 'u', '-y': 'l'}[flag]] = int(words.pop(0))
            else:
                return 2, '', 'ipvsadm: unknown option %s\n' % flag
        if protocol is None or real is None:
            return 2, '', 'ipvsadm: -e needs a service and -r\n'
        service = self.find(protocol, where, ipv6)
        if service is None:
            return 1, '', 'No such service\n'
        for entry in service['real_servers']:
            if (entry['address'], entry['port']) == real:
                entry.update(dest)
                self.state['log'].append(' '.join(argv))
                return 0, '', ''
        return 1, '', 'No such destination\n'

    def run(self, argv):
        """(rc, stdout, stderr) of ``ipvsadm ARGV`` (argv without the program)."""
        if self.state.get('unavailable'):
            return 2, '', ("Can't initialize ipvs: Protocol not available\n"
                           'Are you sure that IP Virtual Server is built in the kernel or as module?\n')
        if argv[:2] == ['-Ln', '--exact']:
            return 0, self.listing(thresholds='--thresholds' in argv), ''
        if argv[:1] == ['-e']:
            return self.edit(argv)
        return 2, '', 'ipvsadm (fake): %s is not supported\n' % ' '.join(argv)


def main():
    path = os.environ.get('FAKE_IPVSADM_STATE', '/run/fake-ipvsadm.json')
    with open(path) as handle:
        state = json.load(handle)
    rc, out, err = FakeIpvsadm(state).run(sys.argv[1:])
    if rc == 0 and sys.argv[1:2] == ['-e']:
        with open(path + '.tmp', 'w') as handle:
            json.dump(state, handle)
        os.rename(path + '.tmp', path)
    sys.stdout.write(out)
    sys.stderr.write(err)
    return rc


if __name__ == '__main__':
    sys.exit(main())
