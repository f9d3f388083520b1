#!/usr/bin/env bash
# Installs GnuPG (Debian's gpg package) when `gpg` is missing, for the install tests: they
# generate a signing key in a temporary GNUPGHOME and sign a local registry's SHA256SUMS with
# it, as a provider's publisher does. Strata itself verifies signatures without gpg. Prints the
# path of gpg.
set -euo pipefail
if ! command -v gpg >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "gpg is not installed; install it (apt-get install gpg) or run as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Another apt-get may hold the locks (a parallel job installing something): wait for it.
  for attempt in 1 2 3 4 5 6; do
    if apt-get -o DPkg::Lock::Timeout=120 update -qq >&2 &&
      apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends gpg gpg-agent >&2; then
      break
    fi
    [ "$attempt" = 6 ] && exit 1
    sleep 10
  done
fi
command -v gpg
