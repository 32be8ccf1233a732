#!/usr/bin/env bash
# Create the virtualenv from the pinned requirements (re-created when requirements.txt changes).
source "$(dirname "$0")/lib.sh"

stamp="$VENV/.requirements.sha256"
want=$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
log "creating $VENV"
rm -rf "$VENV"
python3 -m venv "$VENV"
# (This machine's pip.conf names optional local indexes; their "is ignored" warnings are noise.)
"$VENV/bin/pip" install -q -r "$ROOT/requirements.txt" 2> >(grep -v "^WARNING: Location" >&2)
echo "$want" > "$stamp"
