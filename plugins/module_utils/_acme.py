# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ACME input lint: the sites, key types and deploy hooks of nginx_acme and haproxy, checked on the controller in
preflight and again in the modules. The challenge probes are in _acme_probe, certificate inspection in
_certificates."""

from __future__ import annotations

import re

from ansible_collections.opsnotes.edge.plugins.module_utils import _quote

KEY_TYPES = ('rsa', 'ecdsa')
# Full matches only (re.fullmatch): a '$' anchor would let a trailing newline through.
SITE_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]{0,63}')
LABEL = re.compile(r'(?!-)[a-z0-9-]{1,63}(?<!-)')
UPSTREAM = re.compile(r'(https?://[^\s;{}\'"$\\]+|unix:/[^\s;{}\'"$\\]+)')


# --- input lint (runs on the controller in preflight, and in the modules) -------------------------------------

def domain_errors(domain, where):
    """Problems with one DNS name an http-01 challenge can validate."""
    if not isinstance(domain, str) or not domain:
        return ['%s: %r must be a non-empty DNS name' % (where, domain)]
    if domain.startswith('*'):
        return ['%s: %r is a wildcard; http-01 cannot validate wildcards (use dns-01)' % (where, domain)]
    if re.search(r'\s', domain):
        return ['%s: %r contains whitespace' % (where, domain)]
    name = domain.rstrip('.').lower()
    labels = name.split('.')
    if len(name) > 253 or len(labels) < 2 or not all(LABEL.fullmatch(label) for label in labels):
        return ['%s: %r is not a valid DNS name (letters, digits and hyphens, at least two labels)' % (where, domain)]
    if re.fullmatch(r'[0-9.]+', name):
        return ['%s: %r is an IP address; the ACME http-01 role issues for DNS names' % (where, domain)]
    return []


def absolute_path_errors(path, where, unit=False):
    """A path nginx holds (and, with ``unit``, a systemd unit too): the rendering layer's own checks."""
    errors = _quote.errors(where, _quote.nginx_path, path)
    return errors or (_quote.errors(where, _quote.systemd_path, path) if unit else [])


SITE_FIELDS = ('name', 'domains', 'webroot', 'root', 'upstream', 'hsts', 'profile')


def sites_errors(sites, key_types, var='nginx_acme_sites', key_var='nginx_acme_key_types', fields=SITE_FIELDS):
    """Every problem with the site list and key types, each naming the variable path and the value. ``fields``:
    the keys a site may have (nginx's sites serve content; HAProxy's have a name and domains only)."""
    errors = []
    if not isinstance(key_types, list) or not key_types:
        errors.append('%s: %r must be a non-empty list of %s' % (key_var, key_types, ', '.join(KEY_TYPES)))
    else:
        for index, key_type in enumerate(key_types):
            if key_type not in KEY_TYPES:
                errors.append('%s[%d]: %r is not a key type (choose from %s)'
                              % (key_var, index, key_type, ', '.join(KEY_TYPES)))
        if len(set(key_types)) != len(key_types):
            errors.append('%s: %r lists a key type twice' % (key_var, key_types))
    if not isinstance(sites, list):
        return errors + ['%s: must be a list of sites' % var]
    names, owner = set(), {}
    for index, site in enumerate(sites):
        where = '%s[%d]' % (var, index)
        if not isinstance(site, dict):
            errors.append('%s: must be a dict with name and domains' % where)
            continue
        name = site.get('name')
        if not isinstance(name, str) or not SITE_NAME.fullmatch(name):
            errors.append('%s.name: %r must be 1-64 letters, digits, ".", "_" or "-"' % (where, name))
        elif name in names:
            errors.append('%s.name: %r is already defined' % (where, name))
        names.add(name)
        domains = site.get('domains')
        if not isinstance(domains, list) or not domains:
            errors.append('%s.domains: %r must be a non-empty list of DNS names' % (where, domains))
            domains = []
        for d_index, domain in enumerate(domains):
            problems = domain_errors(domain, '%s.domains[%d]' % (where, d_index))
            errors.extend(problems)
            if problems:
                continue
            key = domain.rstrip('.').lower()
            if key in owner:
                errors.append('%s.domains[%d]: %r is already served by %s' % (where, d_index, domain, owner[key]))
            owner[key] = where
        for field in ('webroot', 'root'):
            if site.get(field) is not None:
                # The webroot is also named in the renewal unit (ReadWritePaths=).
                errors.extend(absolute_path_errors(site[field], '%s.%s' % (where, field), unit=field == 'webroot'))
        if site.get('upstream') is not None and site.get('root') is not None:
            errors.append('%s: set upstream or root, not both' % where)
        upstream = site.get('upstream')
        if upstream is not None and (not isinstance(upstream, str) or not UPSTREAM.fullmatch(upstream)):
            errors.append('%s.upstream: %r must be an http://, https:// or unix:/ URL without spaces, quotes, ";", '
                          'braces, "$" or a backslash' % (where, upstream))
        profile = site.get('profile')
        if profile is not None and not isinstance(profile, str):
            errors.append('%s.profile: %r must be the name of an ACME profile the CA offers (a string)'
                          % (where, profile))
        unknown = sorted(set(site) - set(fields))
        if unknown:
            errors.append('%s: unknown keys %s' % (where, ', '.join(unknown)))
    return errors


def hooks_errors(hooks, site_names, var='nginx_acme_deploy_hooks'):
    """Problems with the deploy hooks: [{command: [/program, args...], sites: [names], writable: [paths]}]."""
    if not isinstance(hooks, list):
        return ['%s: must be a list of hooks ({command: [/program, args...], sites, writable})' % var]
    errors = []
    for index, hook in enumerate(hooks):
        where = '%s[%d]' % (var, index)
        if not isinstance(hook, dict):
            errors.append('%s: must be a dict with command (and optionally sites, writable)' % where)
            continue
        unknown = sorted(set(hook) - {'command', 'sites', 'writable'})
        if unknown:
            errors.append('%s: unknown keys %s' % (where, ', '.join(unknown)))
        command = hook.get('command')
        if not isinstance(command, list) or not command or not all(isinstance(w, (str, int)) for w in command) \
                or any(isinstance(w, bool) for w in command):
            errors.append('%s.command: %r must be a non-empty list of words (the program, then its arguments; '
                          'no shell)' % (where, command))
        else:
            errors.extend(_quote.errors('%s.command[0]' % where, _quote.abs_path, command[0]))
            for w_index, word in enumerate(command):
                errors.extend(_quote.errors('%s.command[%d]' % (where, w_index), _quote.shell_word, word))
        sites = hook.get('sites', [])
        if not isinstance(sites, list):
            errors.append('%s.sites: %r must be a list of site names' % (where, sites))
        else:
            errors.extend('%s.sites[%d]: %r is not a site of nginx_acme_sites' % (where, s_index, site)
                          for s_index, site in enumerate(sites) if site not in site_names)
        writable = hook.get('writable', [])
        if not isinstance(writable, list):
            errors.append('%s.writable: %r must be a list of paths' % (where, writable))
        else:
            for w_index, path in enumerate(writable):
                # Written in the renewal unit (ReadWritePaths=) and passed to systemd-run.
                errors.extend(_quote.errors('%s.writable[%d]' % (where, w_index), _quote.systemd_path, path)
                              or _quote.errors('%s.writable[%d]' % (where, w_index), _quote.systemd_run_word, path))
    return errors
