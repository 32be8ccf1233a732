# SPDX-License-Identifier: GPL-3.0-or-later
"""python3 opsnotes-mconsole.py SOCKET COMMAND: send one command (such as "cad") to a user-mode Linux kernel's
management console and print its reply; the exit status is 1 when the kernel reports an error."""
import os
import socket
import struct
import sys
import tempfile

MAGIC, VERSION, MAX_DATA = 0xcafebabe, 2, 512


def main(path, command):
    data = command.encode()[:MAX_DATA - 1]
    request = struct.pack('=III%ds' % MAX_DATA, MAGIC, VERSION, len(data), data)
    own = os.path.join(tempfile.mkdtemp(prefix='mconsole.'), 'socket')
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(own)
    sock.settimeout(10)
    try:
        sock.sendto(request, path)
        answer = sock.recv(12 + MAX_DATA).ljust(12 + MAX_DATA, b'\0')
        err, _more, length, reply = struct.unpack('=III%ds' % MAX_DATA, answer)
    finally:
        sock.close()
        os.unlink(own)
        os.rmdir(os.path.dirname(own))
    print(reply[:length].decode(errors='replace'))
    return 1 if err else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], ' '.join(sys.argv[2:])))
