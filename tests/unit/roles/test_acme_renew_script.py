# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ACME engine's renewal script, run by bash: its rule for "due" (the collection's ACME client's) agrees with
the playbook's (acme_certificate_check) on real certificates of several lifetimes, and the whole script (with the
ACME client's orders, nginx and systemctl replaced by recording fakes) renews what is due, keeps the old certificate
on failure naming the site and the reason, reloads nginx only after nginx -t, runs the deploy hooks of the renewed
sites, and for HAProxy writes the bundles and swaps them into a (fake) running HAProxy with the collection's own
runtime client."""

from __future__ import annotations

import datetime
import os
import pathlib
import re
import stat
import subprocess
import sys

import pytest
from pki import Pki

from ansible_collections.opsnotes.edge.plugins.module_utils._acme_proto import renewal
from ansible_collections.opsnotes.edge.plugins.module_utils._quote import shell_word

ROOT = os.path.join(os.path.dirname(__file__), '..', '..', '..')
TEMPLATE = os.path.join(ROOT, 'roles', 'acme', 'templates', 'usr', 'local', 'sbin', 'opsnotes-acme-renew.j2')
HAPROXY_HELPER = os.path.join(ROOT, 'plugins', 'module_utils', '_haproxy_runtime.py')
ACME_CLIENT = os.path.join(ROOT, 'plugins', 'module_utils', '_acme_proto.py')
# A CA that does not answer (nothing listens on the discard port): renewal information unknown, the lifetime decides.
NO_CA = 'http://127.0.0.1:9/dir'


def script_text():
    text = open(TEMPLATE).read()
    return '#!/usr/bin/env bash\n' + text.split('{% raw %}\n', 1)[1].split('{% endraw %}', 1)[0]


def due_function():
    return re.search(r'^due\(\) \{\n.*?^\}\n', script_text(), re.M | re.S).group(0)


@pytest.fixture(scope='module')
def account_key(tmp_path_factory):
    from pki import key, key_pem
    path = tmp_path_factory.mktemp('account') / 'account.key'
    path.write_text(key_pem(key('rsa')))
    return str(path)


@pytest.fixture
def bash_due(account_key):
    def run(cert, days, csr='', directory=NO_CA):
        words = (due_function(), shell_word(sys.executable), days, shell_word(ACME_CLIENT), shell_word(directory),
                 shell_word(account_key), shell_word(cert), shell_word(csr))
        script = ('%s\npython3() { %s "$@"; }\nDAYS=%d ACME_CLIENT=%s DIRECTORY_URL=%s ACCOUNT_KEY=%s\n'
                  'if due %s %s; then :; else echo not-due; fi' % words)
        out = subprocess.run(['bash', '-c', script], capture_output=True, text=True, check=True).stdout.strip()
        return None if out == 'not-due' else out
    return run


@pytest.fixture(scope='module')
def pki():
    return Pki()


# (days since notBefore, days until notAfter, renew_days): 90-day, 45-day, 6-day (renewed at half its lifetime) and
# 5-year certificates, on both
# sides of their renewal time (kept a day away from it, so the test is not a race with the clock).
@pytest.mark.parametrize('before, after, renew_days', [
    (-59, 31, 30), (-61, 29, 30), (-29, 16, 30), (-31, 14, 30), (-2, 4, 30), (-4, 2, 30), (-1, 1824, 30),
    (-1800, 25, 30), (-59, 31, 10), (-81, 9, 10),
])
def test_the_script_and_the_check_agree_on_what_is_due(pki, tmp_path, bash_due, before, after, renew_days):
    item = pki.write_site(tmp_path, 'rsa', ['a.test'], days=(before, after))
    now = datetime.datetime.now(datetime.timezone.utc)
    python_due = renewal(now + datetime.timedelta(days=before), now + datetime.timedelta(days=after), now,
                         renew_days)[0]
    why = bash_due(item['cert'], renew_days)
    assert (why is not None) is python_due
    assert why is None or why.startswith('expires ')


@pytest.mark.parametrize('start, end', [(-2, -1), (-1, 1), (3, 5), (40, 42)], ids=['past', 'now', 'soon', 'later'])
def test_the_script_and_the_check_agree_on_the_ca_s_window(pki, tmp_path, bash_due, start, end):
    """With a CA that offers renewal information, both follow its window, to the same point in it; the certificate
    (60 of 90 days left) is never due by its lifetime, so any "due" here is the window's."""
    import fake_acme

    from ansible_collections.opsnotes.edge.plugins.module_utils import _certificates
    item = pki.write_site(tmp_path, 'rsa', ['a.test'], days=(-30, 60))
    now = datetime.datetime.now(datetime.timezone.utc)
    ca = fake_acme.FakeCA()
    with open(item['cert'], 'rb') as handle:
        from cryptography import x509
        leaf = x509.load_pem_x509_certificates(handle.read())[0]
    from ansible_collections.opsnotes.edge.plugins.module_utils._acme_proto import cert_id
    ca.windows[cert_id(leaf)] = tuple((now + datetime.timedelta(days=days)).strftime('%Y-%m-%dT%H:%M:%SZ')
                                      for days in (start, end))
    with ca.serve() as server:
        directory = 'http://127.0.0.1:%d/dir' % server.server_port
        why = bash_due(item['cert'], 30, directory=directory)
        entry = _certificates.inspect_certificate(item, 30, now, renewal_info=_certificates.renewal_reader(
            directory, 5))
    assert entry['renewal_by'] == 'ari' and (why is not None) is entry['due']
    assert why is None or why.startswith('the CA asks for its renewal from ')
    # A window in the past: due now; one ahead: not yet (a window around now: either, but the same for both).
    assert end > 0 or entry['due']
    assert start < 0 or not entry['due']


def test_a_missing_or_unreadable_certificate_is_due(tmp_path, bash_due):
    assert bash_due(str(tmp_path / 'absent.pem'), 30) == 'no readable certificate'
    (tmp_path / 'garbage.pem').write_text('not a certificate\n')
    assert bash_due(str(tmp_path / 'garbage.pem'), 30) == 'no readable certificate'


def csr_for(tmp_path, key_path, names):
    csr = tmp_path / ('%s.csr' % '-'.join(names))
    subprocess.run(['openssl', 'req', '-new', '-key', key_path, '-subj', '/CN=' + names[0], '-addext',
                    'subjectAltName=' + ','.join('DNS:' + n for n in names), '-out', str(csr)],
                   check=True, capture_output=True)
    return str(csr)


def test_a_certificate_for_another_key_or_other_names_is_due(pki, tmp_path, bash_due):
    item = pki.write_site(tmp_path, 'ecdsa', ['a.test', 'www.a.test'])
    assert bash_due(item['cert'], 30, csr_for(tmp_path, item['key'], ['www.a.test', 'a.test'])) is None
    assert bash_due(item['cert'], 30, csr_for(tmp_path, item['key'], ['a.test'])) == "its names are not the CSR's"
    other = tmp_path / 'other'
    other.mkdir()
    other_key = pki.write_site(other, 'ecdsa', ['a.test'])['key']
    assert bash_due(item['cert'], 30, csr_for(other, other_key, ['a.test', 'www.a.test'])) == "its key is not the CSR's"


# --- the whole script, with fakes for the client's orders, nginx and systemctl ------------------------------------

FAKES = {
    # The ACME client: "due" is the real one (its CA does not answer: the lifetime decides); "order" signs the CSR
    # with the test CA, or fails as the client does when FAIL_SITE names the CSR's directory.
    'acme-client': r'''#!/bin/bash
if [ "$1" = due ] || [ "$1" = bundle ]; then exec "$REAL_PYTHON" "$REAL_CLIENT" "$@"; fi
csr=; while [ $# -gt 0 ]; do [ "$1" = --csr ] && csr=$2; shift; done
echo "acme-client order --csr $csr" >> "$LOG"
case $csr in */"$FAIL_SITE"/*)
  printf 'AcmeError: shop.test: the CA could not validate it: connection refused\n' >&2
  exit 1;;
esac
openssl x509 -req -in "$csr" -CA "$CA_PEM" -CAkey "$CA_KEY" -set_serial "0x$(openssl rand -hex 8)" -days 90 2>/dev/null
''',
    # The host that orders, as its forced command answers: a tar stream of its export directory (FAKE_EXPORT), or
    # a refused login when that is unset.
    'ssh': '#!/bin/bash\necho "ssh $*" >> "$LOG"\n'
           '[ -n "$FAKE_EXPORT" ] || { echo "Permission denied (publickey)." >&2; exit 255; }\n'
           'exec tar -C "$FAKE_EXPORT" -cf - .\n',
    # The script runs "python3 CLIENT ...": here the client is the fake above.
    'python3': '#!/bin/bash\nif [ "$1" = "$FAKE_CLIENT" ]; then shift; exec "$FAKE_CLIENT" "$@"; fi\n'
               'exec "$REAL_PYTHON" "$@"\n',
    'nginx': '#!/bin/bash\necho "nginx $*" >> "$LOG"\n[ -z "$NGINX_BROKEN" ] || { echo "emerg: broken" >&2; exit 1; }\n',
    'systemctl': '#!/bin/bash\necho "systemctl $*" >> "$LOG"\n[ "$1" != is-active ] || [ -z "$HAPROXY_DOWN" ]\n',
}


@pytest.fixture
def host(pki, tmp_path, account_key):
    """A certificate directory with two sites (rsa for each), a data file, and fakes on PATH."""
    from pki import key_pem
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in FAKES.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (tmp_path / 'ca.pem').write_text(pki.inter.public_bytes(__import__('cryptography').hazmat.primitives
                                                            .serialization.Encoding.PEM).decode())
    (tmp_path / 'ca.key').write_text(key_pem(pki.inter_key))
    items = []
    for site, names in (('shop', ['shop.test']), ('blog', ['blog.test'])):
        directory = tmp_path / 'certs' / site
        directory.mkdir(parents=True)
        item = pki.write_site(directory, 'rsa', names)
        items.append([site, 'rsa', item['cert'], csr_for(directory, item['key'], names), str(tmp_path), item['key'],
                      ''])
    hook_out = tmp_path / 'hooks.log'
    data = tmp_path / 'renew.conf'

    def write_data(hooks=(), consumer='nginx', socket='', bundles=None, sites=None, path=None, extra=()):
        """The data file (``path``, by default the one the script is given), with the certificates of ``sites``
        (all by default); ``bundles``: the bundle files written as a converged host has them (the default for
        nginx), or removed (for haproxy: its tests start before the first bundle)."""
        for item in items:
            item[6] = item[2].replace('.fullchain.pem', '.pem') if consumer in ('haproxy', 'nginx') else ''
            if item[6] and (consumer == 'nginx' if bundles is None else bundles):
                with open(item[6], 'w') as bundle:
                    bundle.write(open(item[2]).read() + open(item[5]).read())
                os.chmod(item[6], 0o600)
            elif item[6] and os.path.exists(item[6]):
                os.unlink(item[6])
        service = 'haproxy.service' if consumer == 'haproxy' else 'nginx.service'
        lines = ["DAYS=30", "ACCOUNT_KEY=%s" % shell_word(account_key), "WRITABLE=(%s)" % shell_word('"-%s"' % tmp_path),
                 "DIRECTORY_URL=%s" % shell_word(NO_CA), "CONTACT=''",
                 "ACME_CLIENT=%s" % shell_word(str(bin_dir / 'acme-client')),
                 "CONSUMER=%s" % consumer, "SERVICE=%s" % service, "SOCKET=%s" % shell_word(socket),
                 "HAPROXY_HELPER=%s" % shell_word(HAPROXY_HELPER), "CERT_DIR=%s" % shell_word(str(tmp_path / 'certs')),
                 "ITEMS=(%s)" % ' '.join(shell_word(w) for item in items for w in item
                                         if sites is None or item[0] in sites),
                 "DOMAINS=(%s)" % ' '.join(shell_word('%s.test' % item[0]) for item in items
                                           if sites is None or item[0] in sites),
                 "HOOK_COUNT=%d" % len(hooks)] + list(extra)
        for index, (command, sites) in enumerate(hooks):
            lines.append('HOOK_%d=(%s)' % (index, ' '.join(shell_word(w) for w in command)))
            lines.append('HOOK_%d_SITES=(%s)' % (index, ' '.join(shell_word(w) for w in sites)))
        target = path or data
        target.write_text('\n'.join(lines) + '\n')
        target.chmod(0o644)
    write_data()
    script = tmp_path / 'opsnotes-acme-renew'
    script.write_text(script_text())
    script.chmod(0o755)
    env = dict(os.environ, PATH='%s:%s' % (bin_dir, os.environ['PATH']), LOG=str(tmp_path / 'calls.log'),
               CA_PEM=str(tmp_path / 'ca.pem'), CA_KEY=str(tmp_path / 'ca.key'), HOOK_OUT=str(hook_out),
               OPSNOTES_ACME_RENEW_DATA=str(data), OPSNOTES_ACME_RENEW_LOCK=str(tmp_path / 'lock'), FAIL_SITE='-',
               FAKE_EXPORT='',
               # As inside the sandbox the script starts itself in (tested on its own below).
               OPSNOTES_ACME_RENEW_SANDBOXED='1', FAKE_CLIENT=str(bin_dir / 'acme-client'), REAL_PYTHON=sys.executable,
               REAL_CLIENT=ACME_CLIENT)

    class Host(object):
        def run(self, *args, **extra_env):
            if os.path.exists(env['LOG']):
                os.unlink(env['LOG'])
            return subprocess.run([str(script)] + list(args), capture_output=True, text=True,
                                  env=dict(env, **extra_env), check=False)

        def calls(self):
            return open(env['LOG']).read().splitlines() if os.path.exists(env['LOG']) else []

        def serial(self, site):
            return subprocess.run(['openssl', 'x509', '-noout', '-serial', '-in', self.cert(site)],
                                  capture_output=True, text=True, check=True).stdout

        def cert(self, site):
            return [item[2] for item in items if item[0] == site][0]

        def key(self, site):
            return [item[5] for item in items if item[0] == site][0]

        def replace_key(self, site):
            """A new RSA key in the site's key file (as a new key size makes), its certificate left as it was."""
            other = tmp_path / ('other-key-%s' % site)
            other.mkdir()
            with open(self.key(site), 'w') as handle:
                handle.write(read(pki.write_site(other, 'rsa', ['%s.test' % site])['key']))
    h = Host()
    h.write_data, h.data, h.hook_out, h.env, h.items = write_data, data, hook_out, env, items
    return h


HOOK = ['/bin/sh', '-c', 'echo "$0 $OPSNOTES_ACME_RENEWED $OPSNOTES_ACME_CERT_DIR" >> "$HOOK_OUT"']


def test_nothing_due_changes_nothing(host):
    run = host.run()
    assert run.returncode == 0 and run.stdout.strip() == 'renewed: 0, failed: 0', run.stderr
    assert host.calls() == []


def test_a_missing_certificate_is_issued_nginx_reloaded_and_the_hooks_of_its_site_run(host):
    host.write_data(hooks=[(HOOK[:2] + [HOOK[2].replace('$0', 'all')], []),
                           (HOOK[:2] + [HOOK[2].replace('$0', 'blog-only')], ['blog']),
                           (HOOK[:2] + [HOOK[2].replace('$0', 'shop-only')], ['shop'])])
    os.unlink(host.cert('shop'))
    run = host.run()
    assert run.returncode == 0, run.stderr
    assert 'shop (rsa): renewing: no readable certificate' in run.stdout and 'renewed: 1, failed: 0' in run.stdout
    assert host.calls() == ['acme-client order --csr %s' % host.cert('shop').replace('rsa.fullchain.pem', 'shop.test.csr'),
                            'systemctl is-active --quiet -- nginx.service', 'nginx -t -q',
                            'systemctl reload -- nginx.service']
    # nginx loads the bundle, rewritten with the new certificate and its key (root only).
    bundle = host.cert('shop').replace('.fullchain.pem', '.pem')
    assert read(bundle) == read(host.cert('shop')) + read(host.key('shop'))
    assert oct(stat.S_IMODE(os.stat(bundle).st_mode)) == '0o600'
    hooks = host.hook_out.read_text().splitlines()
    assert [line.split()[0] for line in hooks] == ['all', 'shop-only']
    assert all(line.split()[1] == 'shop/rsa' and line.endswith('/certs') for line in hooks)
    assert oct(stat.S_IMODE(os.stat(host.cert('shop')).st_mode)) == '0o644'


def test_force_and_selectors(host):
    before = {site: host.serial(site) for site in ('shop', 'blog')}
    # Named but not due (renewed a moment ago, by a run a fetching host asked for): nothing ordered.
    run = host.run('blog/rsa')
    assert run.returncode == 0 and run.stdout.strip() == 'renewed: 0, failed: 0' and host.calls() == []
    # Named and due: only that one.
    os.unlink(host.cert('blog'))
    os.unlink(host.cert('shop'))
    run = host.run('blog/rsa')
    assert run.returncode == 0 and 'renewed: 1' in run.stdout and 'blog (rsa): renewing: no readable' in run.stdout
    assert not os.path.exists(host.cert('shop'))
    before['blog'] = host.serial('blog')
    run = host.run('--force', 'blog/rsa')
    assert run.returncode == 0 and 'renewed: 1' in run.stdout and 'blog (rsa): renewing: forced' in run.stdout
    assert host.serial('blog') != before['blog']
    before['blog'] = host.serial('blog')
    assert host.run('shop/rsa').returncode == 0
    before['shop'] = host.serial('shop')
    run = host.run('--force')
    assert run.returncode == 0 and 'renewed: 2, failed: 0' in run.stdout
    assert host.serial('shop') != before['shop']
    run = host.run('nope/rsa')
    assert run.returncode == 2 and 'nope/rsa: no such certificate' in run.stderr and host.calls() == []
    assert host.run('--bogus').returncode == 2


def test_a_failed_order_keeps_the_old_certificate_and_names_the_site_and_the_reason(host):
    before = host.serial('shop')
    run = host.run('--force', FAIL_SITE='shop')
    assert run.returncode == 1
    assert 'renewal of shop (rsa) failed: AcmeError: shop.test: the CA could not validate it' in run.stderr
    assert 'the previous certificate stays in place' in run.stderr
    assert host.serial('shop') == before
    assert 'renewed: 1, failed: 1' in run.stdout                  # blog still renewed, and nginx reloaded for it
    assert 'systemctl reload -- nginx.service' in host.calls()
    assert not [name for name in os.listdir(os.path.dirname(host.cert('shop'))) if '.new.' in name]


def test_nginx_is_not_reloaded_when_nginx_t_fails(host):
    run = host.run('--force', NGINX_BROKEN='1')
    assert run.returncode == 1 and 'nginx -t fails, nginx keeps the previous certificates: emerg: broken' in run.stderr
    assert not [call for call in host.calls() if call.startswith('systemctl reload')]


def test_a_new_key_goes_live_only_with_its_certificate(host):
    """A new key and CSR (another size, as acme_config writes them) and the CA failing: the bundle nginx loads keeps
    the previous pair and nginx is not reloaded, while the fullchain beside the new key no longer certifies it (the
    pair nginx loaded before the bundles: the control). Once the CA issues, the bundle takes the new pair."""
    bundle = host.cert('shop').replace('.fullchain.pem', '.pem')
    before = read(bundle)
    host.replace_key('shop')
    csr_for(pathlib.Path(host.cert('shop')).parent, host.key('shop'), ['shop.test'])
    run = host.run(FAIL_SITE='shop')
    assert run.returncode == 1 and "shop (rsa): renewing: its key is not the CSR's" in run.stdout
    assert 'renewal of shop (rsa) failed' in run.stderr and 'does not certify' in run.stderr
    assert read(bundle) == before and not [call for call in host.calls() if 'reload' in call]
    pubkey = ['openssl', 'pkey', '-pubout', '-in', host.key('shop')]
    assert subprocess.run(pubkey, capture_output=True, text=True, check=True).stdout != subprocess.run(
        ['openssl', 'x509', '-pubkey', '-noout', '-in', host.cert('shop')], capture_output=True, text=True,
        check=True).stdout
    run = host.run()
    assert run.returncode == 0 and 'renewed: 1, failed: 0' in run.stdout, run.stderr
    assert read(bundle) == read(host.cert('shop')) + read(host.key('shop')) != before
    assert 'systemctl reload -- nginx.service' in host.calls()


def test_a_stopped_nginx_is_not_reloaded_and_loads_the_bundle_at_start(host):
    os.unlink(host.cert('blog').replace('.fullchain.pem', '.pem'))
    run = host.run(HAPROXY_DOWN='1')
    assert run.returncode == 0 and 'nginx.service is not running: it loads the new certificates when it starts' \
        in run.stdout
    assert not [call for call in host.calls() if 'reload' in call or call.startswith('nginx')]


def test_an_unwritable_certificate_directory_is_named(host):
    # Root writes through directory permissions: a directory that is gone stands in for a read-only one.
    directory = os.path.dirname(host.cert('blog'))
    os.rename(directory, directory + '.away')
    try:
        run = host.run('--force', 'blog/rsa')
    finally:
        os.rename(directory + '.away', directory)
    assert run.returncode == 1 and 'renewal of blog (rsa) failed: cannot write next to' in run.stderr
    assert host.calls() == []


def test_a_failed_hook_fails_the_run_naming_it(host):
    host.write_data(hooks=[(['/bin/sh', '-c', 'echo cannot reach the socket >&2; exit 7'], [])])
    run = host.run('--force', 'shop/rsa')
    assert run.returncode == 1
    assert 'deploy hook 1 (/bin/sh) failed with status 7: cannot reach the socket' in run.stderr


def test_a_data_file_others_can_write_is_refused(host):
    host.data.chmod(0o664)
    run = host.run('--force')
    assert run.returncode == 1 and 'refusing to read it' in run.stderr and host.calls() == []


# --- HAProxy as the consumer ------------------------------------------------------------------------------------

def read(path):
    with open(path) as handle:
        return handle.read()


def test_haproxy_bundles_are_written_and_swapped_in_without_a_reload(host, fake_haproxy):
    from ansible_collections.opsnotes.edge.plugins.module_utils import _haproxy_runtime as runtime
    host.write_data(consumer='haproxy', socket=fake_haproxy.path, bundles=False)
    shop, blog = (host.cert(site).replace('.fullchain.pem', '.pem') for site in ('shop', 'blog'))
    # HAProxy runs with shop's current certificate (from a bundle written earlier); blog is not loaded yet.
    fake_haproxy.load_certificate(shop, read(host.cert('shop')) + read(host.key('shop')))
    run = host.run()
    assert run.returncode == 0 and 'renewed: 0, failed: 0' in run.stdout, run.stderr
    assert 'wrote %s' % shop in run.stdout and '%s: already served' % shop in run.stdout
    # Nothing due, bundles current: nothing written, nothing asked of HAProxy.
    commands = len(fake_haproxy.commands)
    run = host.run()
    assert run.returncode == 0 and run.stdout.strip() == 'renewed: 0, failed: 0' and host.calls() == []
    assert len(fake_haproxy.commands) == commands
    run = host.run('--force')
    assert run.returncode == 0 and 'renewed: 2, failed: 0' in run.stdout, run.stderr
    for site, bundle in (('shop', shop), ('blog', blog)):
        assert read(bundle) == read(host.cert(site)) + read(host.key(site))
        assert oct(stat.S_IMODE(os.stat(bundle).st_mode)) == '0o600'
    serial = host.serial('shop').strip().split('=')[1]
    assert '%s: swapped into the running HAProxy without a reload, serial' % shop in run.stdout
    assert int(runtime.served_certificate(fake_haproxy.path, shop)['serial'], 16) == int(serial, 16)
    assert '%s: not loaded by the running HAProxy' % blog in run.stdout
    assert not [call for call in host.calls() if call.startswith('nginx') or 'reload' in call]


def test_a_missing_bundle_is_repaired_and_a_stopped_haproxy_loads_it_at_start(host, fake_haproxy):
    host.write_data(consumer='haproxy', socket=fake_haproxy.path, bundles=False)
    assert host.run().returncode == 0
    blog = host.cert('blog').replace('.fullchain.pem', '.pem')
    os.unlink(blog)
    run = host.run(HAPROXY_DOWN='1')
    assert run.returncode == 0 and 'wrote %s' % blog in run.stdout and 'renewed: 0, failed: 0' in run.stdout
    assert 'haproxy.service is not running: it loads the new bundles when it starts' in run.stdout
    assert read(blog) == read(host.cert('blog')) + read(host.key('blog'))


def test_a_fullchain_that_does_not_certify_its_key_keeps_the_old_bundle(host, fake_haproxy):
    host.write_data(consumer='haproxy', socket=fake_haproxy.path, bundles=False)
    assert host.run().returncode == 0
    shop = host.cert('shop').replace('.fullchain.pem', '.pem')
    before = read(shop)
    host.replace_key('shop')
    run = host.run()
    assert run.returncode == 0 and read(shop) == before
    assert 'shop (rsa): %s does not certify %s; %s stays as it is' % (host.cert('shop'), host.key('shop'), shop) \
        in run.stderr


def test_a_refused_swap_fails_the_run_and_keeps_the_files(host, fake_haproxy):
    host.write_data(consumer='haproxy', socket=fake_haproxy.path, bundles=False)
    shop = host.cert('shop').replace('.fullchain.pem', '.pem')
    fake_haproxy.load_certificate(shop, read(host.cert('shop')) + read(host.key('shop')))
    fake_haproxy.load_certificate('/etc/haproxy/other.pem', 'x')
    from ansible_collections.opsnotes.edge.plugins.module_utils import _haproxy_runtime as runtime
    runtime.command(fake_haproxy.path, 'set ssl cert /etc/haproxy/other.pem <<\nx\n')
    run = host.run('--force', 'shop/rsa')
    assert run.returncode == 1 and 'renewed: 1, failed: 1' in run.stdout
    assert 'swapping into the running HAProxy failed: %s: ' % shop in run.stderr
    assert 'transaction open for /etc/haproxy/other.pem' in run.stderr
    assert read(shop) == read(host.cert('shop')) + read(host.key('shop'))


# --- every consumer of the host, in its sandbox -------------------------------------------------------------------

def test_one_run_serves_every_consumer_of_the_host_each_with_its_hooks(host, tmp_path):
    """One data file per consumer (the nginx_acme and the haproxy role write theirs): one run renews the due
    certificates of both, and each file's consumer and hooks get only its own. The control: without the
    directory, the single file beside it (a host set up before) is what the script reads."""
    data_dir = tmp_path / 'renew.d'
    data_dir.mkdir()
    host.write_data(hooks=[(HOOK[:2] + [HOOK[2].replace('$0', 'nginx')], [])], sites=['shop'],
                    path=data_dir / 'nginx_acme.conf')
    host.write_data(hooks=[(HOOK[:2] + [HOOK[2].replace('$0', 'other')], [])], consumer='none', sites=['blog'],
                    path=data_dir / 'other.conf')
    os.unlink(host.cert('shop'))
    os.unlink(host.cert('blog'))
    run = host.run(OPSNOTES_ACME_RENEW_DATA='', OPSNOTES_ACME_RENEW_DATA_DIR=str(data_dir))
    assert run.returncode == 0 and 'renewed: 2, failed: 0' in run.stdout, run.stdout + run.stderr
    assert [line.split()[:2] for line in host.hook_out.read_text().splitlines()] == [
        ['nginx', 'shop/rsa'], ['other', 'blog/rsa']]
    assert host.calls().count('systemctl reload -- nginx.service') == 1
    for name in ('nginx_acme.conf', 'other.conf'):
        (data_dir / name).unlink()
    data_dir.rmdir()
    host.write_data(path=tmp_path / 'renew.conf')
    run = host.run('--force', OPSNOTES_ACME_RENEW_DATA='', OPSNOTES_ACME_RENEW_DATA_DIR=str(data_dir))
    assert run.returncode == 0 and 'renewed: 2, failed: 0' in run.stdout, run.stdout + run.stderr


def test_started_outside_its_sandbox_it_starts_itself_in_one_writable_where_the_data_files_say(host, tmp_path):
    data_dir = tmp_path / 'renew.d'
    data_dir.mkdir()
    for name, path in (('a.conf', '/srv/a b'), ('b.conf', '/etc/ssl/x"y')):
        (data_dir / name).write_text('WRITABLE=(%s)\n' % shell_word('"-%s"' % path.replace('"', '\\"')))
        (data_dir / name).chmod(0o644)
    fake = tmp_path / 'bin' / 'systemd-run'
    fake.write_text('#!/bin/bash\nfor a in "$@"; do echo "systemd-run $a" >> "$LOG"; done\nexit 3\n')
    fake.chmod(0o755)
    run = host.run('shop/rsa', OPSNOTES_ACME_RENEW_SANDBOXED='', OPSNOTES_ACME_RENEW_DATA='',
                   OPSNOTES_ACME_RENEW_DATA_DIR=str(data_dir))
    # systemd-run's status is the script's (here the fake's 3); nothing ran outside the sandbox.
    assert run.returncode == 3, run.stderr
    args = [call.split(' ', 1)[1] for call in host.calls()]
    assert '--property=ReadWritePaths="-/srv/a b" "-/etc/ssl/x\\"y"' in args, args
    assert '--property=ProtectSystem=full' in args and '--setenv=OPSNOTES_ACME_RENEW_SANDBOXED=1' in args
    assert args[-3:] == ['--', str(tmp_path / 'opsnotes-acme-renew'), 'shop/rsa']


def test_under_the_unit_the_sandbox_lines_pass_through_its_own_output(host, tmp_path):
    """Under systemd with the journal as output (JOURNAL_STREAM), journald would file the lines of the sandbox
    under its transient unit: they come out of the script's own stdout instead, with the sandbox's status. The
    control: without the journal, the script becomes systemd-run, and stderr stays stderr."""
    fake = tmp_path / 'bin' / 'systemd-run'
    fake.write_text('#!/bin/bash\necho "renewed: 0, failed: 1"\necho "renewal of shop (rsa) failed" >&2\nexit 3\n')
    fake.chmod(0o755)
    out = tmp_path / 'journal-stand-in'
    with open(out, 'w') as stream:
        # systemd names the stream it connected to stdout as "device:inode": here a file stands in for it.
        info = os.fstat(stream.fileno())
        env = dict(host.env, OPSNOTES_ACME_RENEW_SANDBOXED='', JOURNAL_STREAM='%d:%d' % (info.st_dev, info.st_ino))
        run = subprocess.run([str(tmp_path / 'opsnotes-acme-renew')], stdout=stream, stderr=subprocess.PIPE,
                             text=True, check=False, env=env)
    assert run.returncode == 3 and run.stderr == ''
    assert out.read_text().splitlines() == ['renewed: 0, failed: 1', 'renewal of shop (rsa) failed']
    # The controls: no journal, or a JOURNAL_STREAM inherited by a process whose output goes elsewhere (a playbook
    # started from a unit): the script becomes systemd-run, and stderr stays stderr.
    for stream in ('', '8:1234'):
        run = host.run(OPSNOTES_ACME_RENEW_SANDBOXED='', JOURNAL_STREAM=stream)
        assert run.returncode == 3 and run.stderr == 'renewal of shop (rsa) failed\n'


def test_a_client_that_cannot_answer_due_renews(tmp_path):
    """The client says "not due" with status 3 only: a client that crashes (status 1, a traceback) renews, with
    the reason, rather than leaving a certificate to expire in silence."""
    broken = tmp_path / 'broken.py'
    broken.write_text('raise KeyError("surprise")\n')
    script = '%s\npython3() { %s "$@"; }\nDAYS=30 ACME_CLIENT=%s DIRECTORY_URL=x ACCOUNT_KEY=x\ndue /c /r' % (
        due_function(), shell_word(sys.executable), shell_word(str(broken)))
    run = subprocess.run(['bash', '-c', script], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and run.stdout.startswith('cannot tell whether it is due: Traceback')
    assert "KeyError: 'surprise'" in run.stdout


# --- one order for the account group: the hosts that fetch, and the host they fetch from --------------------------

FETCH = ["ISSUER=orderer.example", "ISSUER_PORT=2222", "ISSUER_USER=opsnotes-acme", "FETCH_KEY=/k/id_ed25519",
         "KNOWN_HOSTS=/k/known_hosts"]


def export_site(pki, export, site, kind='rsa', names=None, days=(-1, 90)):
    """The ordering host's bundle for ``site`` in its export directory; returns the certificate's serial (hex)."""
    from pki import key_pem, pem
    private, leaf = pki.leaf(kind, names or ['%s.test' % site], days)
    (export / site).mkdir(parents=True, exist_ok=True)
    (export / site / ('%s.pem' % kind)).write_text(pem(leaf, pki.inter) + key_pem(private))
    serial = '%X' % leaf.serial_number
    return '0' * (len(serial) % 2) + serial         # as openssl prints it: whole bytes


def test_a_fetching_host_installs_the_newer_bundles_of_the_host_that_orders_and_orders_nothing(host, pki, tmp_path):
    export = tmp_path / 'export'
    serial = export_site(pki, export, 'shop')
    host.write_data(extra=FETCH)
    before = host.serial('blog')
    run = host.run(FAKE_EXPORT=str(export))
    # blog is not exported there: named, its certificate stays; shop is fetched and nginx reloaded.
    assert run.returncode == 1, run.stdout
    assert 'blog (rsa): orderer.example exports no such certificate' in run.stderr
    assert 'fetched shop (rsa) from orderer.example: serial %s' % serial in run.stdout
    calls = host.calls()
    assert calls[0] == ('ssh -F /dev/null -i /k/id_ed25519 -p 2222 -l opsnotes-acme -o BatchMode=yes -o IdentitiesOnly=yes'
                        ' -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/k/known_hosts'
                        ' -o GlobalKnownHostsFile=/dev/null -o UpdateHostKeys=no -o ConnectTimeout=30'
                        ' -o ServerAliveInterval=15 -o ServerAliveCountMax=4 -o LogLevel=ERROR -- orderer.example')
    assert not any(call.startswith('acme-client order') for call in calls)
    assert calls[-1] == 'systemctl reload -- nginx.service'
    assert host.serial('shop').strip() == 'serial=%s' % serial and host.serial('blog') == before
    bundle = host.cert('shop').replace('.fullchain.pem', '.pem')
    assert read(bundle) == read(host.cert('shop')) + read(host.key('shop'))
    assert [oct(stat.S_IMODE(os.stat(path).st_mode)) for path in (bundle, host.key('shop'), host.cert('shop'))] == [
        '0o600', '0o600', '0o644']
    assert not [name for name in os.listdir(tmp_path / 'certs') if name.startswith('.fetch')]
    # Both exported: blog fetched; then nothing to do, nothing reloaded (--force fetches too, and orders nothing).
    export_site(pki, export, 'blog')
    assert host.run(FAKE_EXPORT=str(export)).returncode == 0
    run = host.run('--force', FAKE_EXPORT=str(export))
    assert run.returncode == 0 and run.stdout.strip() == 'renewed: 0, failed: 0', run.stdout + run.stderr
    assert [call.split()[0] for call in host.calls()] == ['ssh']


def test_a_fetched_bundle_that_does_not_fit_or_is_older_is_not_installed(host, pki, tmp_path):
    export = tmp_path / 'export'
    export_site(pki, export, 'shop', names=['other.test'])
    export_site(pki, export, 'blog', days=(-60, 30))
    host.write_data(extra=FETCH)
    before = {site: (read(host.cert(site)), read(host.key(site))) for site in ('shop', 'blog')}
    run = host.run(FAKE_EXPORT=str(export))
    assert run.returncode == 1
    assert ('shop (rsa): the bundle from orderer.example is refused: it is for other.test, not shop.test'
            in run.stderr)
    # Older than the one in place (an ordering host restored from a backup): kept, not an error.
    assert 'blog' not in run.stderr and 'fetched' not in run.stdout
    assert {site: (read(host.cert(site)), read(host.key(site))) for site in before} == before
    assert not [call for call in host.calls() if 'reload' in call]


def test_a_link_in_the_export_is_not_followed(host, pki, tmp_path):
    export = tmp_path / 'export'
    export_site(pki, export, 'elsewhere')
    (export / 'shop').mkdir()
    (export / 'shop' / 'rsa.pem').symlink_to(export / 'elsewhere' / 'rsa.pem')
    host.write_data(extra=FETCH, sites=['shop'])
    before = read(host.cert('shop'))
    run = host.run(FAKE_EXPORT=str(export))
    assert run.returncode == 1 and 'shop (rsa): orderer.example exports no such certificate' in run.stderr
    assert read(host.cert('shop')) == before


def test_a_refused_fetch_keeps_every_certificate_and_names_the_host(host):
    host.write_data(extra=FETCH)
    before = {site: read(host.cert(site)) for site in ('shop', 'blog')}
    run = host.run()
    assert run.returncode == 1
    assert ('fetching the certificates from orderer.example failed: Permission denied (publickey).; the ones in '
            'place stay served') in run.stderr
    assert {site: read(host.cert(site)) for site in before} == before


def test_only_selects_the_data_files_that_order_or_that_fetch(host, pki, tmp_path):
    export = tmp_path / 'export'
    export_site(pki, export, 'shop')
    host.write_data(extra=FETCH)
    run = host.run('--force', '--only', 'order', FAKE_EXPORT=str(export))
    assert run.returncode == 0 and host.calls() == [] and 'renewed: 0' in run.stdout
    run = host.run('--only', 'fetch', FAKE_EXPORT=str(export))
    assert 'fetched shop (rsa)' in run.stdout
    host.write_data()
    run = host.run('--force', '--only', 'fetch')
    assert run.returncode == 0 and host.calls() == []
    assert host.run('--only', 'all').returncode == 2


def test_the_ordering_host_exports_each_bundle_for_the_group_and_removes_what_it_no_longer_orders(host, tmp_path):
    import grp
    export = tmp_path / 'export'
    group = grp.getgrgid(os.getgid()).gr_name
    extra = ['EXPORT_DIR=%s' % shell_word(str(export)), 'EXPORT_GROUP=%s' % shell_word(group)]
    host.write_data(extra=extra)
    (export / 'gone').mkdir(parents=True)
    (export / 'gone' / 'rsa.pem').write_text('old')
    run = host.run()
    assert run.returncode == 0, run.stderr
    for site in ('shop', 'blog'):
        path = export / site / 'rsa.pem'
        assert read(path) == read(host.cert(site).replace('.fullchain.pem', '.pem'))
        assert oct(stat.S_IMODE(os.stat(path).st_mode)) == '0o640'
        assert oct(stat.S_IMODE(os.stat(path.parent).st_mode)) == '0o750'
        assert 'exported %s (rsa) for the hosts that fetch from this one' % site in run.stdout
    assert not (export / 'gone' / 'rsa.pem').exists() and 'no longer ordered here' in run.stdout
    # In step: nothing written again. A renewal is exported by the run that makes it.
    assert host.run().stdout.strip() == 'renewed: 0, failed: 0'
    run = host.run('--force', 'shop/rsa')
    assert run.returncode == 0 and 'exported shop (rsa)' in run.stdout and 'exported blog' not in run.stdout
    assert read(export / 'shop' / 'rsa.pem') == read(host.cert('shop')) + read(host.key('shop'))
