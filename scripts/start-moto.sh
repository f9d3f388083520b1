# Sourced by scripts that drive Strata against the AWS API emulator (scripts/demo.sh,
# examples/gitops/local-pipeline.sh): `start_moto LOGFILE` installs moto once
# (scripts/ensure-moto.sh), starts it on a free loopback port, waits until it answers, stops it
# when the calling script exits, and exports the AWS_* variables that point the SDK at it.
# Sets `venv` (moto's Python environment) and `moto_pid`.
start_moto() {
  local log=$1 here port
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  venv=$(bash "$here/ensure-moto.sh")
  port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  MOTO_IAM_LOAD_MANAGED_POLICIES=true "$venv/bin/python" -c 'import sys, moto.eks.models as m; m.DEFAULT_REMOTE_ACCESS = None; from moto.server import main; main(sys.argv[1:])' -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  moto_pid=$!
  trap 'kill $moto_pid 2>/dev/null || true' EXIT
  for _ in $(seq 1 300); do
    if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then break; fi
    sleep 0.1
  done
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
}
