#!/usr/bin/env python
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test client: new-connection HTTP requests for SECONDS (bounded), then a JSON summary to stdout."""

import json
import sys
import time
import urllib.request

url, seconds = sys.argv[1], float(sys.argv[2])
ok, failed, errors = 0, 0, {}
deadline = time.time() + min(seconds, 120)
while time.time() < deadline:
    try:
        request = urllib.request.Request(url, headers={'Host': 'www.example.test', 'Connection': 'close'})
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()
            ok += response.status == 200
            failed += response.status != 200
    except Exception as exc:  # every kind of failure counts: refused, reset, timeout, 5xx
        failed += 1
        errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
print(json.dumps(dict(ok=ok, failed=failed, errors=errors)))
