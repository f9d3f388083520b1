#!/usr/bin/env bash
# The chaos test at full size: `kill -9` at KILLS (default 200) seeded points of applies and
# destroys of the dev environment on the moto emulator, local backend
# (tests/suite/chaos.rs, `chaos_kill_9_during_apply_and_destroy_of_dev_local_backend`; the suite
# runs 12). Appends the counts (kills, runs, adoptions, dropped intents, lock takeovers) to the
# table in RELIABILITY.md, with the date, the commit and the seed.
#
#   scripts/chaos.sh [KILLS]        STRATA_CHAOS_SEED picks the kill points (default 2026)
set -euo pipefail
cd "$(dirname "$0")/.."
kills="${1:-200}"
seed="${STRATA_CHAOS_SEED:-2026}"
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
STRATA_CHAOS_KILLS="$kills" STRATA_CHAOS_SEED="$seed" STRATA_CHAOS_REPORT="$report" \
  cargo test --all-features --test suite chaos::chaos_kill_9 -- --nocapture
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src tests || echo '+changes')"
python3 - "$report" "$commit" <<'PY'
import datetime, json, sys
figures = json.load(open(sys.argv[1]))
row = "| {date} | `{commit}` | local | {seed} | {kills} | {runs} | {adoptions} | {dropped_intents} | {lock_takeovers} |\n".format(
    date=datetime.date.today().isoformat(), commit=sys.argv[2], **figures)
path = "RELIABILITY.md"
text = open(path).read()
marker = "<!-- chaos rows: scripts/chaos.sh appends here -->\n"
open(path, "w").write(text.replace(marker, row + marker))
print(row, end="")
PY
