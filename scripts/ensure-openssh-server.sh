#!/usr/bin/env bash
# Installs Debian's openssh-server when sshd is missing (the tests start their own sshd on a free
# loopback port with their own keys and configuration; the system service is not used), and
# prints the sshd path. Needs root or passwordless sudo for apt-get on a fresh machine.
set -euo pipefail
sshd=/usr/sbin/sshd
if [ ! -x "$sshd" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq -o DPkg::Lock::Timeout=300 >&2 || true
  $sudo apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends openssh-server >&2
fi
# sshd refuses to start without its privilege separation directory.
if [ ! -d /run/sshd ]; then
  if [ "$(id -u)" -eq 0 ]; then mkdir -p /run/sshd; else sudo -n mkdir -p /run/sshd; fi
fi
echo "$sshd"
