#!/usr/bin/env node
// `npm run bench`: the trainer's benchmark (training step, data pipeline, PyTorch comparison);
// with --app the services' benchmark (metric curves, thumbnails, scans, the host's replies during a
// scan); with --ui the renderer's in Chromium (thumbnail grid, fast scrolls, image open, chart
// redraws). Both make their JPEG faces from the test photographs, fetched first when missing.
const entry = process.argv.includes('--faces-quality')
  ? './faces-quality.mjs'
  : process.argv.includes('--probe-quality')
    ? './probe-quality.mjs'
    : process.argv.includes('--recipe-sweep')
      ? './recipe-sweep.mjs'
      : process.argv.includes('--pose-probe')
        ? './pose-probe.mjs'
        : process.argv.includes('--app')
          ? '../electron/dist/bench-app.js'
          : process.argv.includes('--ui')
            ? '../electron/dist/bench-ui.js'
            : '../trainer/dist/bench/main.js';
await import(new URL(entry, import.meta.url).href);
