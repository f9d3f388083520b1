#!/usr/bin/env bash
# The chaos test at full size: `kill -9` at KILLS (default 200) seeded points of applies and
# destroys of the dev environment on the moto emulator, on each backend named (default: local
# and s3; with s3 every run starts in a fresh working directory, as a new CI runner would)
# (tests/suite/chaos.rs, `chaos_kill_9_*`; the suite runs 12 and 6). Appends the counts (kills,
# runs, adoptions, dropped intents, lock takeovers) to the table in RELIABILITY.md, with the
# date, the commit, the backend and the seed.
#
#   scripts/chaos.sh [KILLS [BACKEND...]]   STRATA_CHAOS_SEED picks the kill points (default 2026)
#
# The test binary and `strata` are built once and copied aside first, so a rebuild in this
# clone while the run goes on (it takes hours) does not change the code under test.
set -euo pipefail
cd "$(dirname "$0")/.."
kills="${1:-200}"
shift || true
backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(local s3)
seed="${STRATA_CHAOS_SEED:-2026}"
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src tests || echo '+changes')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
suite="$(cargo test --all-features --test suite --no-run --message-format=json \
  | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "suite" and m.get("executable"):
        print(m["executable"])')"
target="${CARGO_TARGET_DIR:-target}"
cp "$suite" "$work/suite"
cp "$target/debug/strata" "$work/strata"
for backend in "${backends[@]}"; do
  case "$backend" in
    local) test_name=chaos::chaos_kill_9_during_apply_and_destroy_of_dev_local_backend ;;
    s3) test_name=chaos::chaos_kill_9_during_apply_and_destroy_of_dev_s3_backend_fresh_runner_each_time ;;
    *) echo "chaos.sh: unknown backend \`$backend\` (local or s3)" >&2; exit 2 ;;
  esac
  report="$work/report-$backend.json"
  # The suite finds the repository through CARGO_MANIFEST_DIR at build time: run it from here.
  STRATA_CHAOS_BIN="$work/strata" STRATA_CHAOS_KILLS="$kills" STRATA_CHAOS_SEED="$seed" \
    STRATA_CHAOS_REPORT="$report" "$work/suite" --exact "$test_name" --nocapture
  python3 - "$report" "$commit" <<'PY'
import datetime, json, sys
figures = json.load(open(sys.argv[1]))
row = "| {date} | `{commit}` | {backend} | {seed} | {kills} | {runs} | {adoptions} | {dropped_intents} | {lock_takeovers} |\n".format(
    date=datetime.date.today().isoformat(), commit=sys.argv[2], **figures)
path = "RELIABILITY.md"
text = open(path).read()
marker = "<!-- chaos rows: scripts/chaos.sh appends here -->\n"
open(path, "w").write(text.replace(marker, row + marker))
print(row, end="")
PY
done
