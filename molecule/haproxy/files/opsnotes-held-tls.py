#!/usr/bin/env python
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test client: one TLS connection, held open. A keep-alive request every 0.5 s on it until the file GO exists,
then three more; a JSON summary to OUT (the certificate's SHA-1 fingerprint, what each request got).
    opsnotes-held-tls.py ADDRESS PORT SNI GO OUT"""

import hashlib
import json
import os
import socket
import ssl
import sys
import time

address, port, sni, go, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
context = ssl.create_default_context()
context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
conn = context.wrap_socket(socket.create_connection((address, port), 5), server_hostname=sni)
conn.settimeout(5)
fingerprint = hashlib.sha1(conn.getpeercert(binary_form=True)).hexdigest().upper()
buffered = b''


def request():
    """The status of one request on the held connection, or the error that ended it."""
    global buffered
    conn.sendall(('GET / HTTP/1.1\r\nHost: %s\r\n\r\n' % sni).encode())
    while b'\r\n\r\n' not in buffered:
        data = conn.recv(65536)
        if not data:
            raise ConnectionError('closed by the server')
        buffered += data
    head, buffered = buffered.split(b'\r\n\r\n', 1)
    length = 0
    for line in head.split(b'\r\n')[1:]:
        name, _sep, value = line.partition(b':')
        if name.strip().lower() == b'content-length':
            length = int(value)
    while len(buffered) < length:
        data = conn.recv(65536)
        if not data:
            raise ConnectionError('closed by the server in a body')
        buffered += data
    buffered = buffered[length:]
    return head.split(b' ')[1].decode()


results = []


def record():
    try:
        results.append(request())
    except (OSError, ValueError) as exc:
        results.append('%s: %s' % (type(exc).__name__, exc))


def write(done):
    with open(out + '.tmp', 'w') as handle:
        json.dump(dict(fingerprint=fingerprint, results=results, done=done), handle)
    os.rename(out + '.tmp', out)


deadline = time.time() + 240
while not os.path.exists(go) and time.time() < deadline:
    record()
    write(False)
    if results[-1] != '200':        # the connection has ended: nothing more can be sent on it
        break
    time.sleep(0.5)
for _attempt in range(3):
    if results[-1] == '200':
        record()
write(True)
