# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures: a fake procfs/sysfs tree and a runner for the collection's modules."""

from __future__ import annotations

import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super().__init__(result.get('msg', ''))
        self.result = result
        self.failed = failed


class FakeRoot(object):
    """A directory laid out like / with proc/sys, proc/net and sys/class/net."""

    def __init__(self, path):
        self.path = str(path)

    def write(self, relpath, text):
        full = os.path.join(self.path, relpath)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'w') as handle:
            handle.write(text)
        return full

    def read(self, relpath):
        with open(os.path.join(self.path, relpath)) as handle:
            return handle.read()

    def sysctl(self, key_parts, value):
        return self.write(os.path.join('proc', 'sys', *key_parts), '%s\n' % value)

    def get(self, *key_parts):
        return self.read(os.path.join('proc', 'sys', *key_parts)).strip()

    def add_interface(self, name, arp_ignore=0, arp_announce=0, rp_filter=0, mac='02:42:ac:11:00:02'):
        for key, value in (('arp_ignore', arp_ignore), ('arp_announce', arp_announce), ('rp_filter', rp_filter)):
            self.sysctl(('net', 'ipv4', 'conf', name, key), value)
        if name not in ('all', 'default'):
            self.write(os.path.join('sys', 'class', 'net', name, 'address'), mac + '\n')

    def default_route(self, iface, metric=0):
        header = 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n'
        self.write('proc/net/route', header + '%s\t00000000\t010011AC\t0003\t0\t0\t%d\t00000000\t0\t0\t0\n'
                   % (iface, metric) + '%s\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n' % iface)


@pytest.fixture
def fake_root(tmp_path):
    root = FakeRoot(tmp_path / 'root')
    for iface in ('all', 'default', 'lo', 'eth0'):
        root.add_interface(iface, mac='00:00:00:00:00:00' if iface == 'lo' else '02:42:ac:11:00:02')
    root.sysctl(('net', 'ipv4', 'ip_forward'), 0)
    root.default_route('eth0')
    return root


def ip_json(addresses):
    """``ip -json address show`` output for {ifname: [(addr, prefixlen), ...]}."""
    links = []
    for index, (name, addrs) in enumerate(addresses.items(), 1):
        links.append({'ifindex': index, 'ifname': name, 'addr_info': [
            {'family': 'inet6' if ':' in a else 'inet', 'local': a, 'prefixlen': p} for a, p in addrs]})
    return json.dumps(links)


class FakeIp(object):
    """Stands in for module.run_command with ``ip``: keeps a live address table and records calls."""

    def __init__(self, addresses, fail_on=None):
        self.addresses = {k: list(v) for k, v in addresses.items()}
        self.calls = []
        self.fail_on = fail_on

    def __call__(self, argv, **kwargs):
        self.calls.append(argv[1:])
        if argv[1:] == ['-json', 'address', 'show']:
            return 0, ip_json(self.addresses), ''
        if argv[1] == 'address' and argv[2] in ('add', 'del'):
            if self.fail_on and self.fail_on == argv[2:]:
                return 2, '', 'RTNETLINK answers: Operation not permitted'
            addr, plen = argv[3].split('/')
            table = self.addresses[argv[5]]
            if argv[2] == 'add':
                table.append((addr, int(plen)))
            else:
                table.remove((addr, int(plen)))
            return 0, '', ''
        raise AssertionError('unexpected command %r' % (argv,))


@pytest.fixture
def run_module(monkeypatch):
    """run_module(mod, args, root=None, run_command=None, check_mode=False) -> (result, failed).

    ``run_command`` stands in for AnsibleModule.run_command (a FakeIp, or any callable).
    """

    def _exit(self, **kwargs):
        raise ModuleExit(kwargs, False)

    def _fail(self, msg, **kwargs):
        kwargs['msg'] = msg
        raise ModuleExit(kwargs, True)

    from ansible.module_utils import basic
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', _exit)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', _fail)

    def _run(mod, args, root=None, run_command=None, check_mode=False):
        args = dict(args)
        if check_mode:
            args['_ansible_check_mode'] = True
        try:
            with patch_module_args(args):
                module = mod.build_module()
            if run_command is not None:
                module.run_command = run_command
                module.get_bin_path = lambda name, *a, **k: '/usr/bin/' + name
            if root is None:
                mod.run(module)
            else:
                mod.run(module, root=root.path)
        except ModuleExit as exc:
            return exc.result, exc.failed
        raise AssertionError('module returned without exit_json/fail_json')

    return _run


class FakeHAProxy(object):
    """A runtime API on a real unix socket: show stat, show servers state, set server state, set weight."""

    HEADER = ('1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight '
              'srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state '
              'srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord\n')
    ADMIN = {'ready': 0, 'drain': 0x08, 'maint': 0x01}

    def __init__(self, path):
        import socketserver
        import threading
        self.path = path
        self.servers = {('be_www', 'www1'): dict(state='ready', weight=1, scur=0, status='UP'),
                        ('be_www', 'www2'): dict(state='ready', weight=1, scur=0, status='UP')}
        self.commands = []
        self.certs, self.transaction = {}, None
        self.ca_files = {}
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                line = self.rfile.readline().decode().strip()
                if line.endswith('<<'):       # a payload follows, up to an empty line
                    payload = ''.join(iter(lambda: self.rfile.readline().decode(), '\n')).rstrip('\n')
                    line = '%s\n%s' % (line, payload)
                fake.commands.append(line)
                self.wfile.write(fake.answer(line).encode())

        self.server = socketserver.UnixStreamServer(path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def load_certificate(self, path, text):
        """What HAProxy loads from ``text`` for ``path`` at startup: the first certificate, and the key."""
        self.certs[path] = text

    def load_ca_file(self, path, text):
        """What HAProxy loads from the CA file ``path`` at startup (and at each reload): every certificate."""
        self.ca_files[path] = text

    def ca_file_answer(self, path):
        """'show ssl ca-file PATH' as HAProxy 2.6 answers it."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        if path not in self.ca_files:
            return "Can't display the CA file : Not found!\n\n"
        out = ['Filename: %s' % path, 'Status: Used']
        for index, cert in enumerate(x509.load_pem_x509_certificates(self.ca_files[path].encode()), 1):
            out += [' ', 'Certificate #%d:' % index, 'Serial: %X' % cert.serial_number,
                    'SHA1 FingerPrint: %s' % cert.fingerprint(hashes.SHA1()).hex().upper(),
                    'Subject: /CN=%s' % cert.subject.rfc4514_string()]
        return '\n'.join(out) + '\n\n'

    def ssl_answer(self, line):
        """The certificate commands of the runtime API, with HAProxy 2.6's answers: one global transaction;
        commit refuses a key that is not the certificate's."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        head, _sep, payload = line.partition('\n')
        words = head.split()
        path = words[3] if len(words) > 3 else None
        if head == 'show ssl cert':
            out = ['# transaction'] + (['*' + self.transaction[0]] if self.transaction else [])
            return '\n'.join(out + ['# filename'] + sorted(self.certs)) + '\n\n'
        if path not in self.certs:
            return "Can't replace a certificate which is not referenced by the configuration!\n\n"
        if words[0] == 'show':
            text = self.certs[path]
            cert = x509.load_pem_x509_certificate(text[:text.index('-----END CERTIFICATE-----') + 25].encode())
            return ('Filename: %s\nStatus: Used\nSerial: %X\nnotAfter: %s\nSHA1 FingerPrint: %s\n\n'
                    % (path, cert.serial_number, getattr(cert, 'not_valid_after_utc', None), cert.fingerprint(hashes.SHA1()).hex().upper()))
        if words[0] == 'set':
            if self.transaction and self.transaction[0] != path:
                return "The ongoing transaction is about '%s' but you are trying to set '%s'\n\n" % (
                    self.transaction[0], path)
            verb = 'updated' if self.transaction else 'created'
            self.transaction = (path, payload)
            return 'Transaction %s for certificate %s!\n\n' % (verb, path)
        if words[0] == 'abort':
            self.transaction = None
            return "Transaction aborted for certificate '%s'!\n\n" % path
        if not self.transaction or self.transaction[0] != path:
            return 'No ongoing transaction!\n\n'
        text = self.transaction[1]      # a refused commit leaves the transaction open, as in HAProxy
        try:
            cert = x509.load_pem_x509_certificate(text[:text.index('-----END CERTIFICATE-----') + 25].encode())
            key = serialization.load_pem_private_key(text[text.index('-----BEGIN', text.index('-----END CERT')):]
                                                     .encode(), password=None)
        except ValueError:
            return 'The transaction must contain at least a certificate and a private key!\n\n'
        der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        if cert.public_key().public_bytes(*der) != key.public_key().public_bytes(*der):
            return "Can't commit %s: inconsistencies between private key and certificate!\n\n" % path
        self.certs[path], self.transaction = text, None
        return 'Committing %s.\nSuccess!\n\n' % path

    def answer(self, line):
        words = line.split()
        if line.endswith(' ssl cert') or (len(words) > 2 and words[1:3] == ['ssl', 'cert']):
            return self.ssl_answer(line)
        if words[:3] == ['show', 'ssl', 'ca-file'] and len(words) == 4:
            return self.ca_file_answer(words[3])
        if line.startswith('show servers state'):
            backends = {b for b, _s in self.servers}
            if len(words) > 3 and words[3] not in backends:
                return "Can't find backend.\n"
            rows = ['%d %s %d %s 10.0.0.%d 2 %d %d 1 5 6 3 4 6 0 0 0 - 8080 -'
                    % (1, b, i, s, i, self.ADMIN[v['state']], v['weight'])
                    for i, ((b, s), v) in enumerate(sorted(self.servers.items()), 1)
                    if len(words) < 4 or b == words[3]]
            return self.HEADER + '\n'.join(rows) + '\n\n'
        if line == 'show stat':
            out = ['# pxname,svname,qcur,scur,weight,status,']
            out.append('fe_web,FRONTEND,,0,,OPEN,')
            for (b, s), v in sorted(self.servers.items()):
                status = {'maint': 'MAINT', 'drain': 'DRAIN'}.get(v['state'], v['status'])
                out.append('%s,%s,0,%d,%d,%s,' % (b, s, v['scur'], v['weight'], status))
            out.append('be_www,BACKEND,0,0,2,UP,')
            return '\n'.join(out) + '\n\n'
        if words[:2] == ['set', 'server'] and words[3] == 'state':
            b, s = words[2].split('/')
            self.servers[(b, s)]['state'] = words[4]
            return '\n'
        if words[:2] == ['set', 'weight']:
            b, s = words[2].split('/')
            self.servers[(b, s)]['weight'] = int(words[3])
            return '\n'
        return 'Unknown command.\n'

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_haproxy(tmp_path):
    fake = FakeHAProxy(str(tmp_path / 'admin.sock'))
    yield fake
    fake.close()
