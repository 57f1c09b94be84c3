# Sourced by the other scripts: paths and the virtualenv, in one place.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
BUILD="$ROOT/build"
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"
# Never let the AWS SDK (ours or boto3) probe the EC2 metadata service from a test or the demo.
export AWS_EC2_METADATA_DISABLED=true

say() { printf '\n== %s  (%s)\n' "$*" "$(date +%T)"; }
