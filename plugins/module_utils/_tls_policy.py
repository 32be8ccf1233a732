# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Mozilla's "intermediate" TLS profile, and a judge of what a server accepts against it.

The judge asks as a client would, one handshake per question: does the server accept TLS 1.0 or 1.1 (it must
not), TLS 1.2 and 1.3 (it must), a TLS 1.2 suite outside the profile (each one it accepts is named, by offering
every suite the local library has minus the profile's and those already found), and a key exchange group outside
the profile (X448, secp521r1: the groups nginx and OpenSSL add by default). Groups need the ``openssl`` command:
Python's ssl module cannot choose the groups a client offers. What the local library cannot offer is reported as
untested, never as compliant."""

from __future__ import annotations

import socket
import ssl
import warnings

INTERMEDIATE = dict(
    name='intermediate',
    versions=('TLSv1.2', 'TLSv1.3'),
    ciphers=('ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
             'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
             'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384', 'DHE-RSA-CHACHA20-POLY1305'),
    groups=('X25519', 'prime256v1', 'secp384r1'),
)
# Mozilla's "modern": TLS 1.3 only (its suites are all good), the same groups.
MODERN = dict(name='modern', versions=('TLSv1.3',), ciphers=(), groups=INTERMEDIATE['groups'])
PROFILES = {'intermediate': INTERMEDIATE, 'modern': MODERN}
VERSIONS = {'TLSv1': ssl.TLSVersion.TLSv1, 'TLSv1.1': ssl.TLSVersion.TLSv1_1,
            'TLSv1.2': ssl.TLSVersion.TLSv1_2, 'TLSv1.3': ssl.TLSVersion.TLSv1_3}
# Groups outside the profile that a client can offer on its own, for TLS 1.3 and TLS 1.2 (ECDHE).
PROBE_GROUPS = ('X448', 'secp521r1')
OPENSSL_FLAGS = {'TLSv1.2': '-tls1_2', 'TLSv1.3': '-tls1_3'}
# At most this many suites outside the profile are named (each costs a handshake).
MAX_CIPHERS = 40


class Untestable(Exception):
    """The local TLS library cannot offer what the question needs."""


class Unreachable(Exception):
    """No TCP connection to the server."""


def handshake(address, port, server_name, version, ciphers=None, timeout=5.0):
    """(protocol, cipher) when the server completes a handshake at ``version`` offering ``ciphers`` (an OpenSSL
    cipher string, TLS 1.2 and below), or None when it refuses. Untestable when this side cannot offer it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)     # asking for TLS 1.0 and 1.1 is the point
            context.minimum_version = context.maximum_version = VERSIONS[version]
        context.set_ciphers(ciphers or 'ALL:@SECLEVEL=0')
    except (ValueError, ssl.SSLError) as exc:
        raise Untestable('%s: %s' % (version, exc)) from None
    try:
        raw = socket.create_connection((address, port), timeout=timeout)
    except OSError as exc:
        raise Unreachable('cannot connect to %s:%d: %s' % (address, port, exc)) from None
    try:
        with raw, context.wrap_socket(raw, server_hostname=server_name) as tls:
            return tls.version(), tls.cipher()[0]
    except ssl.SSLError as exc:
        if 'NO_PROTOCOLS_AVAILABLE' in str(exc) or 'NO_CIPHERS_AVAILABLE' in str(exc):
            raise Untestable('%s: %s' % (version, exc)) from None
        return None
    except OSError:                       # reset or closed during the handshake: refused
        return None


def connect_arg(address, port):
    """ADDRESS:PORT for openssl s_client -connect, an IPv6 address in brackets."""
    return '%s:%d' % (address if ':' not in address else '[%s]' % address, port)


def group_accepted(openssl, address, port, server_name, version, group, run):
    """Whether a handshake offering only ``group`` completes (``openssl s_client``). ``run(argv)`` -> (rc, out, err)."""
    argv = [openssl, 's_client', '-connect', connect_arg(address, port), '-servername', server_name,
            OPENSSL_FLAGS[version], '-groups', group, '-brief']
    if version == 'TLSv1.2':
        argv += ['-cipher', 'ECDHE:@SECLEVEL=0']
    rc, out, err = run(argv)
    text = out + err
    if any(sign in text for sign in ('Call to SSL_CONF_cmd(-groups', 'Error with command: "-groups')) \
            or 'unknown group' in text.lower():
        raise Untestable('%s %s: this openssl cannot offer it' % (version, group))
    return rc == 0 and 'CONNECTION ESTABLISHED' in text


def openssl_of(module, timeout):
    """(path of the openssl command or None, run(argv) -> (rc, out, err)) on the host of an AnsibleModule.
    openssl s_client has no timeout of its own; coreutils' timeout bounds each call when present."""
    limit = module.get_bin_path('timeout')
    prefix = [limit, '%d' % max(2, int(timeout * 2))] if limit else []
    return module.get_bin_path('openssl'), lambda argv: module.run_command(prefix + argv, data='', binary_data=True)


def judge(address, port, server_name, profile=None, openssl=None, run=None, timeout=5.0):
    """What the server at ``address``:``port`` accepts for ``server_name``, against ``profile``: a dict with
    ``profile``, ``ok``, ``versions`` (version -> accepted, or None when untested), ``ciphers`` (TLS 1.2 suites
    accepted outside the profile), ``groups`` (groups outside the profile accepted, with the version), ``findings``
    (what breaks the profile, one sentence each) and ``untested``. The profile defaults to INTERMEDIATE."""
    profile = profile or INTERMEDIATE
    result = dict(profile=profile['name'], address='%s:%d' % (address, port), server_name=server_name, ok=False,
                  versions={}, ciphers=[], groups=[], findings=[], untested=[])
    for version in VERSIONS:
        try:
            result['versions'][version] = handshake(address, port, server_name, version, timeout=timeout) is not None
        except Unreachable as exc:
            result['findings'].append(str(exc))
            return result
        except Untestable as exc:
            result['versions'][version] = None
            result['untested'].append(str(exc))
            continue
        allowed = version in profile['versions']
        if result['versions'][version] != allowed:
            result['findings'].append('%s %s' % ('refuses' if allowed else 'accepts', version))
    if result['versions'].get('TLSv1.2') and 'TLSv1.2' in profile['versions']:
        refused = list(profile['ciphers'])
        while len(result['ciphers']) < MAX_CIPHERS:
            offer = 'ALL:COMPLEMENTOFALL:' + ':'.join('!' + name for name in refused) + ':@SECLEVEL=0'
            try:
                got = handshake(address, port, server_name, 'TLSv1.2', offer, timeout=timeout)
            except (Untestable, Unreachable):
                break                     # nothing left to offer outside the profile, or the server went away
            if got is None or got[1] in refused:
                break
            result['ciphers'].append(got[1])
            refused.append(got[1])
        if result['ciphers']:
            more = len(result['ciphers']) - 5
            shown = result['ciphers'][:5] + (['and %d more' % more] if more > 0 else [])
            result['findings'].append('accepts TLS 1.2 suites outside the profile: %s' % ', '.join(shown))
    if openssl and run:
        for version in ('TLSv1.3', 'TLSv1.2'):
            if not result['versions'].get(version):
                continue
            for group in PROBE_GROUPS:
                try:
                    if group_accepted(openssl, address, port, server_name, version, group, run):
                        result['groups'].append('%s (%s)' % (group, version))
                except Untestable as exc:
                    result['untested'].append(str(exc))
        if result['groups']:
            result['findings'].append('accepts key exchange groups outside the profile: %s'
                                      % ', '.join(result['groups']))
    else:
        result['untested'].append('key exchange groups: no openssl command')
    result['ok'] = not result['findings']
    return result


def summary(result):
    """One line for a report: compliance, or the findings."""
    if result['ok']:
        accepted = [v for v, ok in result['versions'].items() if ok]
        untested = '; untested: %s' % '; '.join(result['untested']) if result['untested'] else ''
        return 'Mozilla %s: %s only%s' % (result['profile'], ' and '.join(accepted), untested)
    return 'not Mozilla %s: %s' % (result['profile'], '; '.join(result['findings']))
