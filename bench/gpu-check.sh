#!/usr/bin/env bash
# GPU check of the webgpu rung, unattended, on a Linux machine with an NVIDIA GPU and no network.
#
#   bench/gpu-check.sh --fetch-debs   on a machine with apt (ours): puts the Vulkan loader's .deb
#                                     (Debian libvulkan1) into bench/gpu-debs/ to carry along
#   bench/gpu-check.sh                on the GPU machine, in a checkout where `npm run setup` ran
#
# It brings the Vulkan loader from the carried .deb when the system has none (unpacked under
# .cache/vulkan, no root needed), registers the NVIDIA driver's Vulkan ICD (libGLX_nvidia.so.0)
# when no nvidia_icd.json is installed (containers often lack it), then runs
#   1. `camd info --json` (which adapter Dawn gives),
#   2. the webgpu-vs-cpu parity test (two CAMD steps on a micro model, ±1e-3 relative),
#   3. the bench on webgpu: tiny/112 b16, small/224 b32, base/224 b16 (step time, images/s, GPU memory),
# and writes everything to bench/out/gpu-check.json. A few minutes; each part has a time limit.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
DEBS=bench/gpu-debs
mkdir -p "$OUT"

if [ "${1:-}" = "--fetch-debs" ]; then
  mkdir -p "$DEBS" && cd "$DEBS" && apt-get download libvulkan1 && ls -l
  exit $?
fi

log() { echo "[gpu-check] $*" >&2; }
ARCH_DIR=/usr/lib/x86_64-linux-gnu

# 1. Vulkan loader
if ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
  deb=$(ls "$DEBS"/libvulkan1_*.deb 2>/dev/null | head -1)
  if [ -z "$deb" ]; then log "no libvulkan.so.1 and no $DEBS/libvulkan1_*.deb (run --fetch-debs where apt works)"; exit 2; fi
  rm -rf .cache/vulkan && mkdir -p .cache/vulkan && dpkg-deb -x "$deb" .cache/vulkan
  export LD_LIBRARY_PATH="$PWD/.cache/vulkan$ARCH_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  log "Vulkan loader from $deb"
fi

# 2. NVIDIA's Vulkan driver (ICD)
if ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
  glx=$(ldconfig -p | awk '/libGLX_nvidia.so.0 /{print $NF; exit}')
  [ -z "$glx" ] && glx=$(ls /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0 /usr/lib64/libGLX_nvidia.so.0 2>/dev/null | head -1)
  if [ -n "$glx" ]; then
    mkdir -p .cache/vulkan
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3"}}\n' "$glx" > .cache/vulkan/nvidia_icd.json
    export VK_DRIVER_FILES="$PWD/.cache/vulkan/nvidia_icd.json" VK_ICD_FILENAMES="$PWD/.cache/vulkan/nvidia_icd.json"
    log "registered NVIDIA's Vulkan ICD: $glx"
  else
    log "no nvidia_icd.json and no libGLX_nvidia.so.0: the driver's graphics part is missing (container: NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics)"
  fi
fi

GPU=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
log "GPU: ${GPU:-unknown}"

timeout 120 node trainer/bin/camd.js info --json > "$OUT/gpu-info.json" 2> "$OUT/gpu-info.log"
timeout 300 npx vitest run tests/unit/webgpu-backend.test.ts --reporter=json --outputFile="$OUT/gpu-parity.json" > "$OUT/gpu-parity.log" 2>&1
parity_rc=$?
log "parity test exit code $parity_rc"

for cfg in "tiny 112 16" "small 224 32" "base 224 16"; do
  set -- $cfg
  timeout 240 node trainer/dist/bench/main.js --backends webgpu --preset "$1" --img-size "$2" --batch "$3" --steps 5 --warmup 2 \
    --out "$OUT/gpu-bench-$1-$2-b$3.json" > "$OUT/gpu-bench-$1-$2-b$3.log" 2>&1
  log "bench $1/$2 b$3 exit code $?"
  nvidia-smi --query-gpu=memory.used --format=csv,noheader >> "$OUT/gpu-bench-$1-$2-b$3.log" 2>/dev/null
done

node - "$OUT" "$GPU" "$parity_rc" <<'JS'
const fs = require('fs'); const [out, gpu, parityRc] = process.argv.slice(2);
const read = (f) => { try { return JSON.parse(fs.readFileSync(`${out}/${f}`, 'utf8')); } catch { return null; } };
const info = read('gpu-info.json');
const parity = read('gpu-parity.json');
const bench = {};
for (const f of fs.readdirSync(out).filter((f) => /^gpu-bench-.*\.json$/.test(f))) bench[f.slice(10, -5)] = read(f);
const summary = { date: new Date().toISOString(), gpu, webgpu: info?.webgpu ?? null, parity: { exit_code: Number(parityRc), passed: parity?.numPassedTests ?? null, failed: parity?.numFailedTests ?? null, skipped: parity?.numPendingTests ?? null }, bench };
fs.writeFileSync(`${out}/gpu-check.json`, JSON.stringify(summary, null, 2));
console.log(JSON.stringify({ gpu, adapter: info?.webgpu?.packages?.[0]?.details?.adapter ?? info?.webgpu?.reason, parity: summary.parity, steps: Object.fromEntries(Object.entries(bench).map(([k, v]) => [k, v?.results?.webgpu ? { step_ms: v.results.webgpu.step_ms_median, images_per_s: v.results.webgpu.images_per_s, gpu_bytes_allocated: v.results.webgpu.gpu_bytes_allocated } : null])) }, null, 1));
JS
