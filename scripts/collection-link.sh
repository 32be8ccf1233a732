#!/usr/bin/env bash
# Make this checkout importable as opsnotes.edge (ansible.cfg puts .collections on the collections path).
source "$(dirname "$0")/lib.sh"
mkdir -p "$ROOT/.collections/ansible_collections/opsnotes"
ln -sfn "$ROOT" "$ROOT/.collections/ansible_collections/opsnotes/edge"
