#!/usr/bin/env bash
# Fuzzes parsing, evaluation and formatting (the `parse_eval` target in fuzz/) for a while.
#
#   scripts/fuzz.sh [SECONDS] [--update-corpus]
#
# SECONDS defaults to 60. The committed corpus (fuzz/corpus/parse_eval) seeds the run, together
# with every .tf file of the repository; inputs the run finds go to fuzz/artifacts/work-corpus
# (ignored by git). With --update-corpus, those that add coverage are merged into the committed
# corpus afterwards (then minimise it with `cargo fuzz cmin` before committing, see below).
# A crash is written to fuzz/artifacts/parse_eval/ and the script fails; reproduce it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run parse_eval fuzz/artifacts/parse_eval/crash-...
#
# Toolchain: cargo-fuzz passes nightly-only flags to rustc (-Zsanitizer=address and the
# sanitizer-coverage options). There is no nightly toolchain here; RUSTC_BOOTSTRAP=1 makes the
# stable compiler accept them, which is all cargo-fuzz needs. If the address sanitizer does
# not build or run on a machine, set FUZZ_SANITIZER=none (coverage-guided fuzzing still works;
# only memory errors in unsafe code go unseen, and Strata has none of its own).
#
# Not part of scripts/test.sh: a fuzz run is open-ended and takes a full build with
# instrumentation of its own (in $STRATA_FUZZ_TARGET_DIR, default ~/.cache/strata/target-fuzz).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

seconds=60
update_corpus=false
for argument in "$@"; do
  case "$argument" in
    --update-corpus) update_corpus=true ;;
    ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [--update-corpus]" >&2; exit 2 ;;
    *) seconds="$argument" ;;
  esac
done

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${STRATA_FUZZ_TARGET_DIR:-$HOME/.cache/strata/target-fuzz}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
sanitizer="${FUZZ_SANITIZER:-address}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi

# Seeds: the committed corpus and the repository's own configurations.
seeds="fuzz/artifacts/seeds"
work="fuzz/artifacts/work-corpus"
mkdir -p "$seeds" "$work"
while IFS= read -r -d '' file; do
  cp "$file" "$seeds/$(sha1sum "$file" | cut -c1-16)"
done < <(find tests/fixtures modules environments examples -name '*.tf' -size -64k -print0 2>/dev/null)

echo "==> fuzzing parse_eval for ${seconds}s (sanitizer: $sanitizer)"
# One job: the machine's cores are shared. -timeout flags an input that takes over 10 s.
cargo fuzz run --sanitizer "$sanitizer" parse_eval "$work" fuzz/corpus/parse_eval "$seeds" -- \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1

if "$update_corpus"; then
  echo "==> merging what added coverage into fuzz/corpus/parse_eval"
  cargo fuzz run --sanitizer "$sanitizer" parse_eval fuzz/corpus/parse_eval "$work" -- -merge=1
  echo "then: cargo fuzz cmin --sanitizer $sanitizer parse_eval fuzz/corpus/parse_eval (with RUSTC_BOOTSTRAP=1)"
fi
