#!/usr/bin/env bash
# The whole test suite, from a fresh machine: formatting, lints, and every test (unit,
# integration, CLI end to end, and the AWS provider against the moto emulator, which the tests
# install into .cache/venv and start themselves).
#
# The build goes to a target directory outside the clone when one can be kept
# ($STRATA_TARGET_DIR, default ~/.cache/strata/target-ci), so CI runs reuse compiled dependencies.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${STRATA_TARGET_DIR:-$HOME/.cache/strata/target-ci}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"

command -v cargo >/dev/null || { echo "cargo is required (install Rust with rustup)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required (for the AWS emulator)" >&2; exit 1; }

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy (all targets, all features)"
cargo clippy --all-targets --all-features -- -D warnings

echo "==> installing the AWS emulator (moto) if needed"
bash scripts/ensure-moto.sh >/dev/null

# The peers the tests compare with or talk to, installed once here rather than by several test
# threads at once: Terraform 1.15.5 and the real terraform-provider-aws 3.39.0 (PyPI), checkov
# (PyPI), Debian's OpenSSH server (the provisioner and git::ssh:// tests start their own sshd).
echo "==> installing the test peers (Terraform, provider plugin, checkov, sshd) if needed"
bash scripts/ensure-terraform-peer.sh >/dev/null
bash scripts/ensure-checkov.sh >/dev/null
bash scripts/ensure-sshd.sh >/dev/null

echo "==> cargo test"
cargo test --all-features -- --test-threads="${STRATA_TEST_THREADS:-2}"
