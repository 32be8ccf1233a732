# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: acme_config
short_description: Converge the ACME engine of a host in one call (packages, trust, keys, CSRs, renewal, inspection)
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Reads the host, compares it with what is asked and changes only what differs, in one module execution
    whatever the number of sites, key types and files. The engine of the roles P(opsnotes.edge.nginx_acme#role) and
    P(opsnotes.edge.haproxy#role).
  - "In this order: the O(packages); the private CAs of O(trusted_ca_certs) in the system trust store
    (C(update-ca-certificates) when one changed); the O(directories); the account key; a private key and a CSR per
    item of O(keys); the renewal O(files) and the O(timer); then the certificates of O(certificates) are inspected
    (what M(opsnotes.edge.acme_certificate_check) reports), with the account key's thumbprint."
  - A key is kept when it is of the wanted type and size (else it is made anew), a CSR when it matches its key, the
    first name as common name and every name as subjectAltName. Key material never appears in the result.
  - "Each step is all or nothing: the trust store files written are restored when C(update-ca-certificates) fails,
    and the renewal files when C(systemctl daemon-reload), C(enable) or C(start) fails. A failure stops the later
    steps and names the step and those done before it."
  - In check mode nothing is written; missing packages end the call there (with RV(pending)), as nothing could be
    read with them yet.
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._ari
  - opsnotes.edge._attributes.STATE_MODULE
options:
  packages:
    description:
      - Debian packages installed first when missing (as C(apt-get install --no-install-recommends), the package
        lists refreshed). They must include C(python3-cryptography), which the keys need.
    type: list
    elements: str
    default: []
  trusted_ca_certs:
    description:
      - PEM certificates of private CAs to trust (the ACME server's, say), written as
        C(/usr/local/share/ca-certificates/NAME-N.crt) in list order, NAME being O(trust_name).
      - The store follows the list - a file C(NAME-N.crt) that the list no longer has is removed, and so is one
        named C(opsnotes-acme-N.crt) (the name of every consumer before O(trust_name)), so a CA taken off the list
        is no longer trusted. C(update-ca-certificates) runs when a file was written or removed.
    type: list
    elements: str
    default: []
  trust_name:
    description:
      - The name of this consumer's CA files in the trust store. Two consumers on one host (the nginx_acme and haproxy
        roles) each keep their own files with their own name, and neither removes the other's.
      - Letters, digits, C(_), C(.) and C(-).
    type: str
    default: opsnotes-acme
  directories:
    description: Directories to keep, root's, with their mode.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The directory.
        type: path
        required: true
      mode:
        description: Its mode, as an octal string.
        type: str
        default: '0700'
  renewal_lock:
    description:
      - The lock file of the renewal script, held while the keys and CSRs are compared and written, so that a renewal
        running at the same time (its timer) never builds a certificate or an HAProxy bundle from a key replaced in
        between, and this call never replaces a key under a renewal. The renewal script takes the same lock.
    type: path
    default: /run/opsnotes-acme-renew.lock
  renewal_lock_timeout:
    description: How long to wait for a renewal that holds O(renewal_lock), in seconds; then the step fails.
    type: int
    default: 900
  account_key:
    description:
      - The ACME account key, mode 0600. Made on this host (RSA 4096) when there is none or it is not an RSA key
        (the roles' accounts are RSA); an RSA key of another size is kept, as a new key would be another account.
        O(account_key_content) gives instead the key shared by another host. Omit it to leave the account key alone.
    type: path
  account_key_content:
    description:
      - The PEM account key of the host that made it (hosts behind one name share one account). Never logged.
    type: str
  return_account_key:
    description:
      - Return the account key's PEM in RV(account_key_content), for the other hosts of an account group (run it
        delegated to the group's first host, with C(no_log)). The key is made first when there is none; two runs
        at once make one key (the key's directory is locked).
    type: bool
    default: false
  fetch_key:
    description:
      - On a host that fetches its certificates from the host of its account group that orders them, the SSH key it
        fetches with (OpenSSH format, mode 0600), derived from the account key (O(account_key_content), else the file
        O(account_key)) so that the ordering host knows it without an exchange. Kept when it already holds that key.
    type: path
    version_added: 0.3.0
  fetch_server:
    description:
      - On the host that orders the certificates of an account group, what the other hosts of the group fetch them
        from, over SSH with a forced command (C(tar) of O(fetch_server.export_dir), read only).
      - The system user O(fetch_server.user) (no password, shell C(/bin/sh)), its home and C(.ssh) owned by root, its
        C(authorized_keys) (root's, mode 0644) with one line, the key derived from the account key as in
        O(fetch_key), C(restrict) and the forced command; and O(fetch_server.export_dir) (root's, mode 0750, the
        user's group), where the renewal script puts a copy of each bundle.
      - The host's SSH host keys are returned in RV(ssh_host_keys), for the fetching hosts' C(known_hosts).
    type: dict
    version_added: 0.3.0
    suboptions:
      user:
        description: The user the fetching hosts log in as.
        type: str
        default: opsnotes-acme
      home:
        description: Its home directory.
        type: path
        default: /var/lib/opsnotes-acme
      export_dir:
        description: The directory the forced command sends (as a tar stream).
        type: path
        default: /var/lib/opsnotes-acme/export
  keys:
    description: One private key and CSR per item.
    type: list
    elements: dict
    default: []
    suboptions:
      key:
        description: The private key file (mode 0600).
        type: path
        required: true
      key_type:
        description: The key's type (ECDSA keys are on the P-384 curve).
        type: str
        required: true
        choices: [rsa, ecdsa]
      size:
        description: The size of an RSA key, in bits.
        type: int
        default: 3072
      csr:
        description: The CSR file (mode 0644).
        type: path
        required: true
      domains:
        description: The names; the first is the common name, every one a subjectAltName.
        type: list
        elements: str
        required: true
  files:
    description:
      - Files written as given (the renewal script, its data, its units), root's. Their diffs are shown.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file.
        type: path
        required: true
      content:
        description: Its content.
        type: str
        required: true
      mode:
        description: Its mode, as an octal string.
        type: str
        default: '0644'
  eab_hmac_key:
    description:
      - The HMAC key (base64url) a CA that requires External Account Binding gave with the key ID, written to
        O(eab_hmac_key_file) (mode 0600, root's) in the same step as O(files). Never shown in a diff or the output.
      - Unset or empty, O(eab_hmac_key_file) is removed.
    type: str
    version_added: 0.3.0
  eab_hmac_key_file:
    description: Where the renewal script reads O(eab_hmac_key) from. Unset, nothing is written or removed.
    type: path
    version_added: 0.3.0
  files_absent:
    description:
      - Files removed when present (a file an earlier version wrote, which O(files) replaces), in the same step as
        O(files). A refused systemctl puts them back too. Their diffs are shown.
    type: list
    elements: path
    default: []
    version_added: 0.2.0
  timer:
    description:
      - A systemd timer unit name, without C(.timer). With O(timer_enabled=true) it is enabled and started (after a
        C(daemon-reload) when a unit file of O(files) changed); with V(false) it is stopped, disabled and its unit
        file (O(unit_dir)/NAME.timer) removed, and O(files) must not hold it.
    type: str
  timer_enabled:
    description: Whether the timer runs.
    type: bool
    default: true
  unit_dir:
    description: Where the timer's unit file is.
    type: path
    default: /etc/systemd/system
  certificates:
    description:
      - The certificates to inspect once the rest is in place, as M(opsnotes.edge.acme_certificate_check) takes
        them.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The site.
        type: str
        required: true
      key_type:
        description: The key type the certificate must have.
        type: str
        choices: [rsa, ecdsa]
      cert:
        description: The fullchain (or a bundle of fullchain and key).
        type: path
        required: true
      key:
        description: Its private key (omitted for a bundle).
        type: path
      domains:
        description: The names it must cover, and no others.
        type: list
        elements: str
  renew_days:
    description: A certificate with fewer days left (or less than a third of its lifetime) is due.
    type: int
    default: 30
  probe:
    description: Also ask the server, per name and key type, which certificate it sends.
    type: bool
    default: false
  probe_address:
    description: Where to ask.
    type: str
    default: 127.0.0.1
  probe_port:
    description: The TLS port to ask.
    type: int
    default: 443
  timeout:
    description: Seconds per probe.
    type: float
    default: 5
requirements:
  - python3-cryptography on the target (installable through O(packages) in the same call).
seealso:
  - module: opsnotes.edge.acme_certificate_check
"""

EXAMPLES = r"""
- name: Converge the ACME engine and inspect the certificates
  opsnotes.edge.acme_config:
    packages: [python3-cryptography, openssl, ca-certificates]
    directories:
      - {path: /etc/ssl/opsnotes-acme, mode: '0700'}
      - {path: /var/lib/opsnotes-acme/challenges, mode: '0755'}
    account_key: /etc/ssl/opsnotes-acme/account.key
    keys:
      - key: /etc/ssl/opsnotes-acme/shop/ecdsa.key
        key_type: ecdsa
        csr: /etc/ssl/opsnotes-acme/shop/ecdsa.csr
        domains: [shop.example.org, www.shop.example.org]
    files:
      - path: /etc/systemd/system/opsnotes-acme-renew.timer
        content: "{{ lookup('ansible.builtin.template', 'opsnotes-acme-renew.timer.j2') }}"
    timer: opsnotes-acme-renew
    certificates:
      - name: shop
        key_type: ecdsa
        cert: /etc/ssl/opsnotes-acme/shop/ecdsa.fullchain.pem
        key: /etc/ssl/opsnotes-acme/shop/ecdsa.key
        domains: [shop.example.org, www.shop.example.org]
  register: engine
"""

RETURN = r"""
pending:
  description: True in check mode when packages are missing; nothing else was compared.
  returned: always
  type: bool
packages_installed:
  description: The packages installed (in check mode, that would be).
  returned: always
  type: list
  elements: str
package_versions:
  description:
    - The installed version of each package of O(packages) that is installed (Debian's version string), once the
      packages step is done. A consumer's configuration follows it (nginx 1.25.1 and later enable HTTP/2 with
      C(http2 on), older ones on the C(listen) line).
  returned: always
  type: dict
  sample: {nginx: 1.22.1-9+deb12u1, openssl: 3.0.17-1~deb12u2}
trust_changed:
  description:
    - The trust store files written or removed (in check mode, that would be); C(update-ca-certificates) ran after.
  returned: always
  type: list
  elements: str
trust_removed:
  description: Of RV(trust_changed), the files removed, whose CAs the list no longer has.
  returned: always
  type: list
  elements: str
directories_changed:
  description: The directories created or whose owner or mode was fixed.
  returned: always
  type: list
  elements: str
account_key:
  description: V(kept), V(mode) (owner or mode fixed), V(created), V(replaced), or V(none) without O(account_key).
  returned: always
  type: str
account_key_content:
  description: The account key's PEM (secret; register it under C(no_log)).
  returned: with O(return_account_key=true) when the key exists (not in check mode before it is made)
  type: str
key_actions:
  description:
    - Per item of O(keys), what was (in check mode, would be) done to its key and its CSR.
    - Also returned as C(keys), deprecated (a key Jinja cannot read with a dot, as C(result.keys) names the method),
      to be removed in 1.0.0.
  returned: always
  version_added: 0.2.0
  type: list
  elements: dict
  contains:
    key:
      description: The key file.
      type: str
    key_action:
      description: V(kept), V(mode), V(created) or V(replaced).
      type: str
    csr_action:
      description: V(kept), V(mode), V(created) or V(replaced).
      type: str
fetch_key:
  description: What was (in check mode, would be) done to O(fetch_key), as for RV(account_key).
  returned: always
  type: str
  version_added: 0.3.0
fetch_server_changed:
  description: What O(fetch_server) created or fixed (C(user NAME), or a path).
  returned: always
  type: list
  elements: str
  version_added: 0.3.0
ssh_host_keys:
  description: With O(fetch_server), the host's SSH host public keys (C(TYPE BASE64)), for a C(known_hosts) file.
  returned: always
  type: list
  elements: str
  version_added: 0.3.0
files_changed:
  description: The files of O(files) written, the files of O(files_absent) removed, and a removed timer unit.
  returned: always
  type: list
  elements: str
renewal_state:
  description:
    - With O(timer) and O(timer_enabled=true), what systemd holds for the timer and its service once the call is
      done (C(systemctl show)), as C({timer, service}), each a dict of C(Id), C(ActiveState), C(UnitFileState),
      C(LastTriggerUSec), C(NextElapseUSecRealtime), C(Result), C(ExecMainStatus) and C(ExecMainExitTimestamp).
  returned: when O(timer) is set and O(timer_enabled=true)
  type: dict
  sample:
    timer: {Id: opsnotes-acme-renew.timer, ActiveState: active, UnitFileState: enabled}
    service: {Id: opsnotes-acme-renew.service, ActiveState: inactive, Result: success, ExecMainStatus: '0'}
timer_actions:
  description: What was done to the timer (V(daemon-reload), V(enable), V(start), V(disable), V(remove)), in order.
  returned: always
  type: list
  elements: str
certificates:
  description: Per item of O(certificates), as M(opsnotes.edge.acme_certificate_check) returns it.
  returned: always
  type: list
  elements: dict
account_thumbprint:
  description: The account key's JWK thumbprint (base64url), or null when there is none yet.
  returned: always
  type: str
failures:
  description: One line per certificate with problems.
  returned: always
  type: list
  elements: str
"""

import contextlib
import fcntl
import glob
import grp
import os
import pwd
import re
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils import _acme_keys
from ansible_collections.opsnotes.edge.plugins.module_utils._acme_proto import account_thumbprint
from ansible_collections.opsnotes.edge.plugins.module_utils._certificates import (
    CERTIFICATE_ITEM,
    INSPECT_ARGS,
    inspect_all,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._files import (
    FileTransaction,
    StepFailed,
    fix_mode,
    read_text,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._install import install_packages, unit_properties
from ansible_collections.opsnotes.edge.plugins.module_utils._quote import shell_word

CA_DIR = '/usr/local/share/ca-certificates'
# The name of every consumer's CA files before trust_name: their files are this consumer's to remove.
LEGACY_TRUST_NAME = 'opsnotes-acme'
# Any RSA key is kept (the roles' accounts are RSA); a new one has 4096 bits.
ACCOUNT_SPEC = ('rsa', None)
STATE_PROPERTIES = ['Id', 'ActiveState', 'UnitFileState', 'LastTriggerUSec', 'NextElapseUSecRealtime', 'Result',
                    'ExecMainStatus', 'ExecMainExitTimestamp']


SECRET_SHOWN = '(a secret: not shown)'


def _mode(text, where):
    try:
        return int(text, 8)
    except (TypeError, ValueError):
        raise StepFailed('%s: mode %r is not an octal number' % (where, text)) from None


def _diff(path, old, new):
    return dict(before_header=path, after_header=path, before=old or '', after=new)


def _transaction(module, wanted, result, diffs, secret=()):
    """Write each (path, text, mode) that differs, in one FileTransaction (nothing in check mode). Returns the
    transaction and the paths written. The diff of a path in ``secret`` says only that it changes."""
    txn, written = FileTransaction(module), []
    for path, text, mode in wanted:
        old = read_text(path)
        same_mode = old is not None and os.stat(path).st_mode & 0o7777 == mode
        if old == text and same_mode:
            continue
        written.append(path)
        if old != text:
            diffs.append(_diff(path, old, text) if path not in secret else
                         _diff(path, SECRET_SHOWN if old is not None else '', SECRET_SHOWN + ' (changed)'))
        if not module.check_mode:
            txn.write(path, text, mode)
    return txn, written


def _run(module, argv, txn, what):
    rc, out, err = module.run_command(argv)
    if rc != 0:
        undone = txn.rollback()
        command = ' '.join([os.path.basename(argv[0])] + list(argv[1:]))
        restored = ('could not restore: %s' % '; '.join(undone)) if undone else '%s restored as they were' % what
        raise StepFailed('%s failed: %s; %s' % (command, (out + err).strip() or 'no output', restored))


def trust(module, certs, name, result, diffs):
    """The CA files of this consumer follow ``certs``: written in list order as NAME-N.crt, and the files of its name
    (and of the single name all consumers had before) that the list no longer has removed, in one transaction."""
    if not re.fullmatch(r'[A-Za-z0-9_.-]+', name):
        raise StepFailed('trust_name %r must be letters, digits, _ . and - only' % (name,))
    wanted = [(os.path.join(CA_DIR, '%s-%d.crt' % (name, index)), cert.strip() + '\n', 0o644)
              for index, cert in enumerate(certs)]
    txn, written = _transaction(module, wanted, result, diffs)
    ours = re.compile(r'^(?:%s|%s)-[0-9]+\.crt$' % (re.escape(name), re.escape(LEGACY_TRUST_NAME)))
    keep = {path for path, _text, _mode in wanted}
    removed = [os.path.join(CA_DIR, entry) for entry in sorted(os.listdir(CA_DIR) if os.path.isdir(CA_DIR) else [])
               if ours.match(entry) and os.path.join(CA_DIR, entry) not in keep]
    for path in removed:
        diffs.append(_diff(path, read_text(path), ''))
        if not module.check_mode:
            txn.remove(path)
    if (written or removed) and not module.check_mode:
        _run(module, [module.get_bin_path('update-ca-certificates', required=True)], txn, 'the CA files were')
    result['trust_changed'], result['trust_removed'] = written + removed, removed


def directories(module, items, result):
    for item in items:
        path, mode = item['path'], _mode(item['mode'], item['path'])
        if not os.path.isdir(path):
            result['directories_changed'].append(path)
            if not module.check_mode:
                # Parents as mkdir -p makes them (traversable): a webroot's readers need to reach it.
                os.makedirs(os.path.dirname(path.rstrip('/')) or '/', 0o755, exist_ok=True)
                os.mkdir(path, mode)
                os.chown(path, 0, 0)
                os.chmod(path, mode)
        elif fix_mode(module, path, mode, 'root'):
            result['directories_changed'].append(path)


@contextlib.contextmanager
def renewal_lock(module, path, timeout):
    """Hold the renewal script's lock (flock, as its 'flock -w' does), waiting up to ``timeout`` seconds for a renewal
    that holds it; nothing in check mode, which writes nothing."""
    if module.check_mode:
        yield
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StepFailed('a renewal has held %s for %d s; no key or CSR was touched'
                                     % (path, timeout)) from None
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)


def keys(module, params, result):
    if params['account_key']:
        result['account_key'] = _acme_keys.ensure_key(module, params['account_key'], ACCOUNT_SPEC,
                                                      params['account_key_content'])
    for item in params['keys']:
        spec = _acme_keys.key_spec(item['key_type'], item['size'])
        key_action = _acme_keys.ensure_key(module, item['key'], spec)
        try:
            csr_action = _acme_keys.ensure_csr(module, item['csr'], item['key'], item['domains'],
                                               key_changed=key_action in ('created', 'replaced'))
        except ValueError as exc:
            raise StepFailed('%s: %s' % (item['csr'], exc)) from exc
        result['keys'].append(dict(key=item['key'], key_action=key_action, csr_action=csr_action))


def _account_pem(params):
    """The account key's PEM (given, or read from its file), or None when there is none yet (check mode)."""
    if params['account_key_content']:
        return params['account_key_content']
    return read_text(params['account_key']) if params['account_key'] else None


def authorized_line(export_dir, public_line):
    """The authorized_keys line of the fetching hosts: no pty, no forwarding, and one command whatever they ask,
    a tar stream of ``export_dir`` (a single-quoted shell word inside the option's double quotes)."""
    command = 'tar -C %s -cf - .' % shell_word(export_dir)
    return 'restrict,command="%s" %s\n' % (command.replace('\\', '\\\\').replace('"', '\\"'), public_line)


def ssh_host_keys(pattern='/etc/ssh/ssh_host_*_key.pub'):
    """The host's SSH public keys, ``TYPE BASE64`` each (the comment dropped)."""
    keys = []
    for path in sorted(glob.glob(pattern)):
        words = (read_text(path) or '').split()
        if len(words) >= 2:
            keys.append('%s %s' % (words[0], words[1]))
    return keys


def _own_dir(module, path, mode, gid, result):
    """A directory owned by root and group ``gid``, with ``mode`` (made when missing)."""
    if not os.path.isdir(path):
        result['fetch_server_changed'].append(path)
        if not module.check_mode:
            os.makedirs(path, mode)
            os.chown(path, 0, gid)
            os.chmod(path, mode)
        return
    st = os.stat(path)
    if (st.st_uid, st.st_gid, st.st_mode & 0o7777) != (0, gid, mode):
        result['fetch_server_changed'].append(path)
        if not module.check_mode:
            os.chown(path, 0, gid)
            os.chmod(path, mode)


def fetch(module, params, result, diffs):
    """The fetching side's key (O(fetch_key)) and the ordering side's user, authorized_keys and export directory
    (O(fetch_server)); both derived from the account key."""
    server = params['fetch_server']
    if not params['fetch_key'] and not server:
        return
    account = _account_pem(params)
    if account is None:
        if not module.check_mode:
            raise StepFailed('the fetch key is derived from the account key, and there is none')
        result['fetch_key'] = 'created' if params['fetch_key'] else 'none'
        result['fetch_server_changed'] = ['user %s' % server['user']] if server else []
        return
    try:
        if params['fetch_key']:
            result['fetch_key'] = _acme_keys.ensure_fetch_key(module, params['fetch_key'], account)
        public = _acme_keys.fetch_public_line(_acme_keys.fetch_identity(account)) if server else None
    except ValueError as exc:
        raise StepFailed('account key: %s' % exc) from exc
    if not server:
        return
    user, home, export = server['user'], server['home'].rstrip('/') or '/', server['export_dir']
    if not re.fullmatch(r'[a-z_][a-z0-9_-]{0,30}', user):
        raise StepFailed('fetch_server.user %r is not a valid user name (lower case letters, digits, _ and -)' % user)
    try:
        exists = bool(pwd.getpwnam(user))
    except KeyError:
        exists = False
    if not exists:
        result['fetch_server_changed'].append('user %s' % user)
        if module.check_mode:
            return
        useradd = module.get_bin_path('useradd', required=True)
        rc, out, err = module.run_command([useradd, '--system', '--user-group', '--home-dir', home, '--no-create-home',
                                           '--shell', '/bin/sh', '--password', '*', user])
        if rc != 0:
            raise StepFailed('useradd %s failed: %s' % (user, (out + err).strip()))
    gid = grp.getgrnam(user).gr_gid
    _own_dir(module, home, 0o755, 0, result)
    _own_dir(module, os.path.join(home, '.ssh'), 0o755, 0, result)
    _own_dir(module, export, 0o750, gid, result)
    path = os.path.join(home, '.ssh', 'authorized_keys')
    _txn, written = _transaction(module, [(path, authorized_line(export, public), 0o644)], result, diffs)
    result['fetch_server_changed'].extend(written)
    result['ssh_host_keys'] = ssh_host_keys()


def renewal(module, params, result, diffs):
    """The renewal files (and the External Account Binding key), then the timer. A refused systemctl puts the files
    back; RV(files_changed) and RV(timer_actions) then name only what stands."""
    wanted = [(f['path'], f['content'], _mode(f['mode'], f['path'])) for f in params['files']]
    secret, absent = (), list(params['files_absent'])
    if params['eab_hmac_key_file']:
        if params['eab_hmac_key']:
            secret = (params['eab_hmac_key_file'],)
            wanted.append((params['eab_hmac_key_file'], params['eab_hmac_key'].strip() + '\n', 0o600))
        else:
            absent.append(params['eab_hmac_key_file'])
    txn, written = _transaction(module, wanted, result, diffs, secret)
    for path in absent:
        if os.path.lexists(path):
            written.append(path)
            diffs.append(_diff(path, SECRET_SHOWN if path == params['eab_hmac_key_file'] else read_text(path), ''))
            if not module.check_mode:
                txn.remove(path)
    name = params['timer']
    if not name:
        result['files_changed'] = written
        return
    systemctl = module.get_bin_path('systemctl', required=True)
    timer = '%s.timer' % name
    timer_path = os.path.join(params['unit_dir'], timer)
    units_changed = any(path.startswith(params['unit_dir'].rstrip('/') + '/') for path in written)
    if params['timer_enabled']:
        enabled = module.run_command([systemctl, 'is-enabled', '--quiet', timer])[0] == 0
        active = module.run_command([systemctl, 'is-active', '--quiet', timer])[0] == 0
        actions = (['daemon-reload'] if units_changed else []) + ([] if enabled else ['enable']) \
            + ([] if active else ['start'])
        try:
            for action in actions if not module.check_mode else []:
                argv = [systemctl, action] + ([] if action == 'daemon-reload' else [timer])
                _run(module, argv, txn, 'the renewal files were')
        except StepFailed:
            if units_changed:       # systemd loaded the new units: it loads the restored ones again
                module.run_command([systemctl, 'daemon-reload'])
            raise
        result.update(files_changed=written, timer_actions=actions,
                      renewal_state=renewal_state(module, name))
        return
    actions = []
    if os.path.exists(timer_path):
        actions = ['disable', 'remove', 'daemon-reload']
        written = written + [timer_path]
        diffs.append(_diff(timer_path, read_text(timer_path), ''))
        if not module.check_mode:
            _run(module, [systemctl, 'disable', '--now', timer], txn, 'the renewal files were')
            txn.remove(timer_path)
            _run(module, [systemctl, 'daemon-reload'], txn, 'the renewal files were')
    elif units_changed:
        actions = ['daemon-reload']
        if not module.check_mode:
            _run(module, [systemctl, 'daemon-reload'], txn, 'the renewal files were')
    result.update(files_changed=written, timer_actions=actions)


def renewal_state(module, name):
    """What systemd holds for the timer and its service now: {timer: {Property: value}, service: {...}} (empty
    dicts when systemctl cannot say)."""
    try:
        timer, service = unit_properties(module, ['%s.timer' % name, '%s.service' % name], STATE_PROPERTIES,
                                         ['--timestamp=utc'])
    except StepFailed:
        timer, service = {}, {}
    return dict(timer=timer, service=service)


def inspect(module, params, result):
    result['certificates'], result['failures'] = inspect_all(module, params)
    if params['account_key']:
        try:
            with open(params['account_key'], 'rb') as handle:
                result['account_thumbprint'] = account_thumbprint(handle.read())
        except OSError:
            result['account_thumbprint'] = None     # check mode, before the key exists
        except (ValueError, TypeError) as exc:
            result['failures'].append('account key %s: %s' % (params['account_key'], exc))


def _changed(result):
    """Whether the steps recorded in ``result`` changed (in check mode, would change) anything."""
    return bool(result['packages_installed'] or result['trust_changed'] or result['directories_changed']
                or result['account_key'] not in ('kept', 'none') or result['files_changed'] or result['timer_actions']
                or result['fetch_key'] not in ('kept', 'none') or result['fetch_server_changed']
                or any(k['key_action'] != 'kept' or k['csr_action'] != 'kept' for k in result['keys']))


def run(module):
    params = module.params
    key_actions = []   # also returned as keys: deprecated, removed in 1.0.0
    result = dict(changed=False, pending=False, packages_installed=[], package_versions={}, trust_changed=[],
                  trust_removed=[],
                  directories_changed=[],
                  account_key='none', key_actions=key_actions, keys=key_actions, fetch_key='none',
                  fetch_server_changed=[], ssh_host_keys=[],
                  files_changed=[], timer_actions=[], certificates=[],
                  account_thumbprint=None, failures=[])
    diffs = []
    steps = []
    try:
        steps.append('packages')
        result['packages_installed'] = install_packages(module, params['packages'], result['package_versions'])
        if module.check_mode and result['packages_installed']:
            result.update(changed=True, pending=True)
            module.exit_json(**result)
        steps.append('trust')
        trust(module, params['trusted_ca_certs'], params['trust_name'], result, diffs)
        steps.append('directories')
        directories(module, params['directories'], result)
        # In check mode a key whose directory does not exist yet is reported as to be created, with its CSR.
        steps.append('keys')
        if params['keys'] or params['account_key']:
            with renewal_lock(module, params['renewal_lock'], params['renewal_lock_timeout']):
                keys(module, params, result)
                steps.append('fetch')
                fetch(module, params, result, diffs)
        steps.append('renewal')
        renewal(module, params, result, diffs)
    except (StepFailed, OSError) as exc:
        done = ', '.join(steps[:-1]) or 'nothing'
        module.fail_json(msg='%s step: %s (steps completed before it: %s)'
                         % (steps[-1], getattr(exc, 'msg', exc), done), **dict(result, changed=_changed(result)))
    result['changed'] = _changed(result)
    inspect(module, params, result)
    if params['return_account_key'] and params['account_key'] and os.path.exists(params['account_key']):
        result['account_key_content'] = read_text(params['account_key'])
    if module._diff:
        result['diff'] = diffs
    module.exit_json(**result)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            packages=dict(type='list', elements='str', default=[]),
            trusted_ca_certs=dict(type='list', elements='str', default=[]),
            trust_name=dict(type='str', default=LEGACY_TRUST_NAME),
            directories=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True),
                mode=dict(type='str', default='0700'),
            )),
            renewal_lock=dict(type='path', default='/run/opsnotes-acme-renew.lock'),
            renewal_lock_timeout=dict(type='int', default=900),
            account_key=dict(type='path', no_log=False),
            account_key_content=dict(type='str', no_log=True),
            return_account_key=dict(type='bool', default=False, no_log=False),
            fetch_key=dict(type='path', no_log=False),
            fetch_server=dict(type='dict', options=dict(
                user=dict(type='str', default='opsnotes-acme'),
                home=dict(type='path', default='/var/lib/opsnotes-acme'),
                export_dir=dict(type='path', default='/var/lib/opsnotes-acme/export'),
            )),
            keys=dict(type='list', elements='dict', default=[], no_log=False, options=dict(
                key=dict(type='path', required=True, no_log=False),
                key_type=dict(type='str', required=True, choices=['rsa', 'ecdsa']),
                size=dict(type='int', default=3072),
                csr=dict(type='path', required=True),
                domains=dict(type='list', elements='str', required=True),
            )),
            files=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True),
                content=dict(type='str', required=True),
                mode=dict(type='str', default='0644'),
            )),
            files_absent=dict(type='list', elements='path', default=[]),
            eab_hmac_key=dict(type='str', no_log=True),
            eab_hmac_key_file=dict(type='path', no_log=False),
            timer=dict(type='str'),
            timer_enabled=dict(type='bool', default=True),
            unit_dir=dict(type='path', default='/etc/systemd/system'),
            certificates=dict(type='list', elements='dict', default=[], options=CERTIFICATE_ITEM),
            **INSPECT_ARGS
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
