# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from ansible_collections.opsnotes.edge.plugins.modules import haproxy_import

CFG = 'global\n    maxconn 100\n    chroot /srv/haproxy\n    nbthread 2\nfrontend fe\n    bind *:80\n    default_backend be\n' \
      'backend be\n    server s 10.0.0.1:80 check\n'


def test_reads_the_file_into_the_role_s_variables_and_names_the_rest(run_module, tmp_path):
    path = tmp_path / 'haproxy.cfg'
    path.write_text(CFG)
    result, failed = run_module(haproxy_import, dict(path=str(path)), check_mode=True)
    assert not failed and not result['changed']
    assert result['variables']['haproxy_backends'] == [dict(name='be', servers=[
        dict(name='s', address='10.0.0.1', port=80, check=True)])]
    assert result['variables']['haproxy_maxconn'] == 100
    assert result['variables']['haproxy_global_directives'] == ['nbthread 2']
    reason = "the role runs HAProxy in /var/lib/haproxy (its global section is the role's own)"
    assert result['inexpressible'] == [dict(line=3, text='chroot /srv/haproxy', reason=reason)]
    # fail_on_inexpressible fails with the lines named; without the line, it passes (the control).
    result, failed = run_module(haproxy_import, dict(path=str(path), fail_on_inexpressible=True))
    assert failed and result['msg'].endswith("have no place in the role's variables: line 3 (chroot /srv/haproxy): "
                                             + reason)
    path.write_text(CFG.replace('    chroot /srv/haproxy\n', ''))
    result, failed = run_module(haproxy_import, dict(path=str(path), fail_on_inexpressible=True))
    assert not failed and result['inexpressible'] == []


def test_a_missing_file_fails_naming_it(run_module, tmp_path):
    result, failed = run_module(haproxy_import, dict(path=str(tmp_path / 'nope.cfg')))
    assert failed and result['msg'] == 'cannot read %s: No such file or directory' % (tmp_path / 'nope.cfg')
