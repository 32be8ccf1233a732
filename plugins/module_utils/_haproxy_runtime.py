# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HAProxy runtime API over the admin (stats) socket: send a command, parse 'show stat' and 'show servers state', and
swap renewed certificates into the running HAProxy.

Also a program, which the ACME renewal script of the collection runs on HAProxy hosts (standard library only):

    python3 _haproxy_runtime.py swap SOCKET CERTIFICATE_FILE...

(installed by the ACME engine as /usr/local/lib/opsnotes-haproxy-runtime.py).
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import ipaddress
import os
import re
import socket
import sys

# srv_admin_state bits (HAProxy's SRV_ADMF_*): forced/inherited/config maintenance, forced/inherited drain,
# resolution maintenance.
ADMF_FMAINT, ADMF_IMAINT, ADMF_CMAINT, ADMF_FDRAIN, ADMF_IDRAIN, ADMF_RMAINT = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
MAINT_BITS = ADMF_FMAINT | ADMF_IMAINT | ADMF_CMAINT | ADMF_RMAINT
DRAIN_BITS = ADMF_FDRAIN | ADMF_IDRAIN


class RuntimeError_(Exception):
    """The socket is missing or refused, or HAProxy answered with an error."""


def command(path, text, timeout=5.0):
    """Send one runtime API command and return HAProxy's whole answer."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        sock.sendall(text.encode() + b'\n')
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        raise RuntimeError_('cannot connect to the HAProxy admin socket %s: %s (is haproxy running, and is the '
                            'socket path right?)' % (path, exc.strerror)) from None
    except (OSError, socket.timeout) as exc:
        raise RuntimeError_('HAProxy admin socket %s: %s' % (path, exc)) from None
    finally:
        sock.close()
    return b''.join(chunks).decode('utf-8', 'replace')


def parse_stat(text):
    """'show stat' CSV -> list of dicts (pxname, svname, status, scur, weight, ...)."""
    text = text.lstrip()
    if text.startswith('# '):
        text = text[2:]
    return [dict(row) for row in csv.DictReader(io.StringIO(text)) if row.get('pxname')]


def parse_servers_state(text):
    """'show servers state' -> list of dicts with be_name, srv_name, srv_op_state, srv_admin_state, srv_uweight."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = None
    rows = []
    for line in lines:
        if line.startswith('#'):
            header = line.lstrip('# ').split()
            continue
        if line.strip() == '1' or header is None:      # the format version line
            continue
        values = line.split()
        rows.append({header[i]: values[i] for i in range(min(len(header), len(values)))})
    return rows


def _same_address(configured, row):
    """Whether a server's configured address (IP or host name) is the one a state row was saved with."""
    try:
        return ipaddress.ip_address(configured) == ipaddress.ip_address(row.get('srv_addr', ''))
    except ValueError:
        return configured.rstrip('.').lower() == row.get('srv_fqdn', '-').rstrip('.').lower()


def state_for(text, backends):
    """The 'show servers state' ``text`` to save for a configuration with ``backends`` ([{name, servers: [{name,
    address, port}]}]), and what was left out. HAProxy applies a saved row's address and port over the new
    configuration's (haproxy/haproxy#985): a server whose address or port changed would keep the old ones after
    the reload. Its row is dropped, so it starts from the configuration (UP after its checks, not drained)."""
    configured = {(backend.get('name'), server.get('name')): server
                  for backend in backends or [] for server in backend.get('servers') or []}
    kept, dropped, header = [], [], None
    for line in text.splitlines():
        values = line.split()
        if line.startswith('#'):
            header = line.lstrip('# ').split()
        if not values or line.startswith('#') or header is None or len(values) < len(header):
            kept.append(line)
            continue
        row = {name: values[index] for index, name in enumerate(header)}
        server = configured.get((row.get('be_name'), row.get('srv_name')))
        if server is not None and not (_same_address(str(server.get('address', '')), row)
                                       and str(server.get('port')) == row.get('srv_port')):
            dropped.append('%s/%s: %s:%s is now %s:%s' % (row['be_name'], row['srv_name'],
                                                          row.get('srv_fqdn') if row.get('srv_fqdn', '-') != '-'
                                                          else row.get('srv_addr'), row.get('srv_port'),
                                                          server.get('address'), server.get('port')))
            continue
        kept.append(line)
    return '\n'.join(kept) + '\n', dropped


def admin_state(row):
    """'maint', 'drain' or 'ready' from a 'show servers state' row."""
    admin = int(row.get('srv_admin_state', 0))
    if admin & MAINT_BITS:
        return 'maint'
    if admin & DRAIN_BITS:
        return 'drain'
    return 'ready'


def check_answer(answer):
    """Runtime commands answer nothing on success; anything else is HAProxy's error text."""
    text = answer.strip()
    if text:
        raise RuntimeError_(text)


# --- TLS certificates: what HAProxy serves from memory, and the hot swap of a renewed file --------------------------

PEM_CERT = re.compile(r'-----BEGIN CERTIFICATE-----\s+([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----')
PEM_KEY = re.compile(r'-----BEGIN (?:RSA |EC )?PRIVATE KEY-----')


def cli_word(value):
    """One argument of the runtime API: its parser splits on spaces and ';' and reads a backslash as an escape."""
    return re.sub(r'([\\\s;])', r'\\\1', value)


def pem_fingerprint(text):
    """SHA-1 fingerprint (upper-case hex, as 'show ssl cert' prints it) of the first certificate of a PEM text, or
    None when there is none."""
    match = PEM_CERT.search(text or '')
    if not match:
        return None
    try:
        der = base64.b64decode(''.join(match.group(1).split()), validate=True)
    except (ValueError, binascii.Error):
        return None
    return der_fingerprint(der)


def der_fingerprint(der):
    """SHA-1 fingerprint of a DER certificate, upper-case hex as 'show ssl cert' prints it."""
    return hashlib.sha1(der).hexdigest().upper()


def pem_fingerprints(text):
    """The SHA-1 fingerprints of every certificate of a PEM text (a CA bundle), as a set."""
    found = set()
    for match in PEM_CERT.finditer(text or ''):
        try:
            found.add(der_fingerprint(base64.b64decode(''.join(match.group(1).split()), validate=True)))
        except (ValueError, binascii.Error):
            continue
    return found


def loaded_ca_file(socket_path, path):
    """The SHA-1 fingerprints of the certificates HAProxy holds in memory for the CA file ``path`` ('show ssl
    ca-file PATH', HAProxy 2.5 and later), or None when it holds none for that file."""
    answer = command(socket_path, 'show ssl ca-file %s' % cli_word(path))
    if not answer.startswith('Filename:'):
        return None
    return {value.strip().upper() for key, _sep, value in (line.partition(': ') for line in answer.splitlines())
            if key.strip() == 'SHA1 FingerPrint'}


def stale_ca_files(socket_path, paths):
    """The CA files of ``paths`` whose certificates are not those HAProxy holds: it reads a CA file at start only, so
    a CA added to the trust store (or removed) reaches server verification only with a reload. A file HAProxy holds
    nothing for, or that cannot be read, is left to the reload's own check."""
    stale = []
    for path in paths:
        try:
            with open(path) as handle:
                wanted = pem_fingerprints(handle.read())
        except OSError:
            continue
        loaded = loaded_ca_file(socket_path, path)
        if loaded is not None and loaded != wanted:
            stale.append(path)
    return stale


def certificate_payload(path):
    """The PEM text 'set ssl cert' needs for ``path``: the file, plus FILE.key when the key is not in it (HAProxy
    loads that file next to the certificate at startup too)."""
    with open(path) as handle:
        text = handle.read()
    if not PEM_KEY.search(text) and os.path.exists(path + '.key'):
        with open(path + '.key') as handle:
            text = text.rstrip('\n') + '\n' + handle.read()
    return text


def parse_ssl_cert(text):
    """'show ssl cert PATH' -> {Serial, SHA1 FingerPrint, notAfter, ...}."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(': ')
        if sep:
            fields[key.strip()] = value.strip()
        elif line.endswith(':'):
            fields[line[:-1].strip()] = ''
    return fields


def served_certificate(socket_path, path):
    """What HAProxy serves from memory for the certificate file ``path``: {serial, fingerprint, not_after}."""
    answer = command(socket_path, 'show ssl cert %s' % cli_word(path))
    fields = parse_ssl_cert(answer)
    if 'SHA1 FingerPrint' not in fields:
        raise RuntimeError_('show ssl cert %s: %s' % (path, answer.strip() or 'no answer'))
    return dict(serial=fields.get('Serial'), fingerprint=fields['SHA1 FingerPrint'].upper(),
                not_after=fields.get('notAfter'))


def swap_certificate(socket_path, path, payload):
    """Replace the certificate HAProxy serves for ``path`` without a reload: 'set ssl cert' opens a transaction with
    the new certificate and key, 'commit ssl cert' makes new handshakes use it (established connections keep
    theirs). HAProxy refuses a key that is not the certificate's; the transaction is then aborted, and the old
    certificate stays served."""
    word = cli_word(path)
    answer = command(socket_path, 'set ssl cert %s <<\n%s\n' % (word, payload.strip('\n')))
    if 'Transaction created' not in answer and 'Transaction updated' not in answer:
        raise RuntimeError_('set ssl cert %s: %s' % (path, answer.strip() or 'no answer'))
    answer = command(socket_path, 'commit ssl cert %s' % word)
    if 'Success!' not in answer:
        command(socket_path, 'abort ssl cert %s' % word)
        raise RuntimeError_('commit ssl cert %s: %s' % (path, ' '.join(answer.split()) or 'no answer'))


def open_transaction(socket_path):
    """The certificate file of the runtime API's open transaction ('show ssl cert' marks it with '*'), or None."""
    answer = command(socket_path, 'show ssl cert')
    for line in answer.splitlines():
        if line.startswith('*'):
            return line[1:]
    return None


class NotLoaded(RuntimeError_):
    """HAProxy has no certificate in memory for this file: its running configuration does not load it."""


def sync_certificates(socket_path, paths, apply=True):
    """Make HAProxy serve what each certificate file of ``paths`` holds: one whose certificate differs from the one
    in memory ('show ssl cert', SHA-1 fingerprint) is swapped in (with ``apply``). A transaction on one of ``paths``
    was left open by an interrupted swap and holds that attempt's payload: it is aborted first. One on another file
    belongs to another operation, and stops the swap before anything changes.

    Returns one entry per file: {path, file_fingerprint, served_fingerprint, served_serial, swapped} (swapped: would
    be, without ``apply``). Raises NotLoaded for a file HAProxy holds no certificate for, RuntimeError_ otherwise."""
    stale = open_transaction(socket_path)
    entries = []
    for path in paths:
        try:
            payload = certificate_payload(path)
        except OSError as exc:
            raise RuntimeError_('cannot read the certificate file %s: %s' % (path, exc.strerror)) from None
        entry = dict(path=path, file_fingerprint=pem_fingerprint(payload), swapped=False)
        if entry['file_fingerprint'] is None:
            raise RuntimeError_('%s holds no PEM certificate; HAProxy keeps serving the one it loaded' % path)
        try:
            served = served_certificate(socket_path, path)
        except RuntimeError_ as exc:
            raise NotLoaded('HAProxy holds no certificate for %s (%s)' % (path, exc)) from None
        entry.update(served_fingerprint=served['fingerprint'], served_serial=served['serial'])
        if served['fingerprint'] != entry['file_fingerprint']:
            entry['swapped'] = True
            if apply:
                if stale in paths:
                    command(socket_path, 'abort ssl cert %s' % cli_word(stale))
                    stale = None
                elif stale:
                    raise RuntimeError_("HAProxy's runtime API has a certificate transaction open for %s, which is "
                                        "not one of the files to swap (another operation in progress?); %s was not "
                                        "swapped. Commit or abort it, then run again" % (stale, path))
                swap_certificate(socket_path, path, payload)
                entry['served_serial'] = served_certificate(socket_path, path)['serial']
        entries.append(entry)
    return entries


def main(argv, out=sys.stdout, err=sys.stderr):
    """swap SOCKET FILE...: swap each renewed file into the running HAProxy, one line per file on ``out``. A file
    HAProxy does not load yet is not an error (the next reload loads it). Exit status 1 on any other failure."""
    if len(argv) < 3 or argv[0] != 'swap':
        err.write('usage: opsnotes-haproxy-runtime.py swap SOCKET CERTIFICATE_FILE...\n')
        return 2
    socket_path, status = argv[1], 0
    for path in argv[2:]:
        try:
            entry = sync_certificates(socket_path, [path])[0]
        except NotLoaded as exc:
            out.write('%s: not loaded by the running HAProxy, which loads it at its next reload (%s)\n' % (path, exc))
            continue
        except RuntimeError_ as exc:
            err.write('%s: %s\n' % (path, exc))
            status = 1
            continue
        if entry['swapped']:
            out.write('%s: swapped into the running HAProxy without a reload, serial %s\n'
                      % (path, entry['served_serial']))
        else:
            out.write('%s: already served, serial %s\n' % (path, entry['served_serial']))
    return status


if __name__ == '__main__':
    raise SystemExit(main(sys.argv[1:]))
