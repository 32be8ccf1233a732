# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The renewal script's rule for "due" (bash, run by the timer) agrees with the playbook's (acme_certificate_check),
run by bash on real certificates of several lifetimes."""

from __future__ import annotations

import datetime
import os
import re
import subprocess

import pytest
from pki import Pki

from ansible_collections.opsnotes.edge.plugins.module_utils._acme_proto import renewal

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'nginx_acme', 'templates', 'usr', 'local',
                      'sbin', 'opsnotes-acme-renew.j2')


def due_function():
    text = open(SCRIPT).read()
    return re.search(r'^due\(\) \{\n.*?^\}\n', text, re.M | re.S).group(0)


def bash_due(cert, days):
    script = '%s\nDAYS=%d\nif due %s; then echo due; else echo ok; fi' % (due_function(), days, cert)
    return subprocess.run(['bash', '-c', script], capture_output=True, text=True, check=True).stdout.strip() == 'due'


@pytest.fixture(scope='module')
def pki():
    return Pki()


# (days since notBefore, days until notAfter, renew_days): 90-day, 45-day, 6-day and 5-year certificates, on both
# sides of their renewal time (kept a day away from it, so the test is not a race with the clock).
@pytest.mark.parametrize('before, after, renew_days', [
    (-59, 31, 30), (-61, 29, 30), (-29, 16, 30), (-31, 14, 30), (-3, 3, 30), (-5, 1, 30), (-1, 1824, 30),
    (-1800, 25, 30), (-59, 31, 10), (-81, 9, 10),
])
def test_the_script_and_the_check_agree_on_what_is_due(pki, tmp_path, before, after, renew_days):
    item = pki.write_site(tmp_path, 'rsa', ['a.test'], days=(before, after))
    now = datetime.datetime.now(datetime.timezone.utc)
    python_due = renewal(now + datetime.timedelta(days=before), now + datetime.timedelta(days=after), now,
                         renew_days)[0]
    assert bash_due(item['cert'], renew_days) is python_due


def test_a_missing_or_unreadable_certificate_is_due(tmp_path):
    assert bash_due(str(tmp_path / 'absent.pem'), 30)
    (tmp_path / 'garbage.pem').write_text('not a certificate\n')
    assert bash_due(str(tmp_path / 'garbage.pem'), 30)
