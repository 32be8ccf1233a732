#!/usr/bin/env bash
# Build the release notes the next `antsibull-changelog release` would write, from the fragments, in a scratch
# copy (a real release consumes the fragments; `make changelog` does that). Prints the path of the preview and
# fails when a module or a fragment is missing from it.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
export PATH=$VENV/bin:$PATH
version=$(sed -n 's/^version: *//p' galaxy.yml)
work=$(mktemp -d /tmp/opsnotes-changelog.XXXXXX)
trap 'rm -rf "$work"' EXIT
copy=$work/ansible_collections/opsnotes/edge
mkdir -p "$copy"
cp -r galaxy.yml changelogs meta plugins roles playbooks "$copy"/
(cd "$copy" && antsibull-changelog release --version "$version" --date "$(date +%F)" >/dev/null 2>&1)
out=${1:-$ROOT/.cache/CHANGELOG.preview.rst}
mkdir -p "$(dirname "$out")"
cp "$copy/CHANGELOG.rst" "$out"
for module in plugins/modules/*.py; do
  name=$(basename "$module" .py)
  grep -q "opsnotes.edge.$name - " "$out" || { log "changelog preview lacks module $name"; exit 1; }
done
for fragment in changelogs/fragments/*.yml; do
  [ -e "$fragment" ] || continue        # none since the last release
  # the first words of each fragment entry's topic (e.g. "nginx_acme - ") must be in the notes
  topic=$(grep -m1 -oE '^ *(- |    )[a-z0-9_.,]+( [a-z0-9_.,]+)* - ' "$fragment" | sed 's/^ *- *//; s/^ *//' || true)
  [ -z "$topic" ] || grep -qF "$topic" "$out" || { log "changelog preview lacks $fragment ($topic)"; exit 1; }
done
log "changelog preview for $version: $out ($(grep -c '' "$out") lines)"
