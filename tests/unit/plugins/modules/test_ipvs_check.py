# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from ipvs_tables import EXPECTED, IPVSADM, PROC

from ansible_collections.opsnotes.edge.plugins.module_utils import _ipvs
from ansible_collections.opsnotes.edge.plugins.modules import ipvs_check

ARGS = dict(virtual_servers=[dict(service, protocol=service.get('protocol', 'tcp').lower()) for service in EXPECTED])


def ipvsadm(rc=0, out=IPVSADM):
    calls = []

    def run(argv, **kwargs):
        calls.append(argv)
        return rc, out, 'Can\'t initialize ipvs: Protocol not available' if rc else ''
    run.calls = calls
    return run


def test_reads_ipvsadm_and_finds_no_drift(run_module, tmp_path, monkeypatch):
    monkeypatch.setattr(_ipvs, 'PROC', str(tmp_path / 'ip_vs'))
    (tmp_path / 'ip_vs').write_text(PROC)
    runner = ipvsadm()
    result, failed = run_module(ipvs_check, ARGS, run_command=runner)
    assert not failed and result['ok'] and result['source'] == 'ipvsadm' and result['drift'] == []
    assert runner.calls == [['/usr/bin/ipvsadm', '-Ln', '--exact']]
    assert result['extra'] == ['UDP 172.29.213.200:53']


def test_reads_proc_without_ipvsadm_and_fails_on_drift(run_module, tmp_path, monkeypatch):
    monkeypatch.setattr(_ipvs, 'PROC', str(tmp_path / 'ip_vs'))
    (tmp_path / 'ip_vs').write_text(PROC.replace('Route   1      3', 'Route   0      3'))
    result, failed = run_module(ipvs_check, dict(ARGS, source='proc'), run_command=ipvsadm())
    assert failed and result['source'] == 'proc'
    assert result['msg'] == 'IPVS drift: TCP 172.29.213.200:80 -> 172.29.213.12:80: weight 0, not 1'
    result, failed = run_module(ipvs_check, dict(ARGS, source='proc', fail_on_drift=False), run_command=ipvsadm())
    assert not failed and not result['ok'] and len(result['drift']) == 1


def test_no_ipvs_in_the_kernel(run_module, tmp_path, monkeypatch):
    monkeypatch.setattr(_ipvs, 'PROC', str(tmp_path / 'none'))
    result, failed = run_module(ipvs_check, ARGS, run_command=ipvsadm())
    assert failed and not result['available'] and 'this kernel has no IPVS' in result['msg']
    result, failed = run_module(ipvs_check, dict(ARGS, fail_when_unavailable=False), run_command=ipvsadm())
    assert not failed and not result['ok'] and result['source'] is None and 'CONFIG_IP_VS' in result['reason']


def test_errors_are_named(run_module, tmp_path, monkeypatch):
    monkeypatch.setattr(_ipvs, 'PROC', str(tmp_path / 'ip_vs'))
    (tmp_path / 'ip_vs').write_text(PROC)
    result, failed = run_module(ipvs_check, dict(virtual_servers=[dict(address='10.0.0.1')]), run_command=ipvsadm())
    assert failed and result['msg'] == 'virtual_servers[0]: give an address and a port, or a fwmark'
    result, failed = run_module(ipvs_check, dict(virtual_servers=[dict(fwmark=1, real_servers=[dict(weight=1)])]),
                                run_command=ipvsadm())
    assert failed and result['msg'] == 'virtual_servers[0].real_servers[0]: needs an address'
    result, failed = run_module(ipvs_check, ARGS, run_command=ipvsadm(rc=2))
    assert failed and 'ipvsadm -Ln --exact failed: Can\'t initialize ipvs' in result['msg']
    result, failed = run_module(ipvs_check, ARGS, run_command=ipvsadm(out='TCP  garbage\n'))
    assert failed and result['msg'].startswith('cannot read the IPVS table (ipvsadm): line 1')
