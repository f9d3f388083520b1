#!/usr/bin/env bash
# Installs OpenSSH's server (Debian's openssh-server, which brings ssh-keygen and scp) when
# /usr/sbin/sshd is missing, for the provisioner tests: they start their own sshd on a loopback
# port with a configuration, host key and authorized_keys in a temporary directory, and stop it
# at the end. Nothing is enabled or started here.
set -euo pipefail
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null || ! command -v scp >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "openssh-server is not installed; install it (apt-get install openssh-server) or run as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Another apt-get may hold the locks (a parallel job installing something): wait for it.
  for attempt in 1 2 3 4 5 6; do
    if apt-get -o DPkg::Lock::Timeout=120 update -qq >&2 &&
      apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends openssh-server openssh-client >&2; then
      break
    fi
    [ "$attempt" = 6 ] && exit 1
    sleep 10
  done
fi
# sshd started by root wants its privilege separation directory.
if [ "$(id -u)" = 0 ]; then
  mkdir -p /run/sshd
  chmod 0755 /run/sshd
fi
echo /usr/sbin/sshd
