#!/usr/bin/env node
// `npm run bench`: the trainer's benchmark (training step, data pipeline, PyTorch comparison), or
// with --app the services' benchmark (metric curves, thumbnails, scans).
const entry = process.argv.includes('--app') ? '../electron/dist/bench-app.js' : '../trainer/dist/bench/main.js';
await import(new URL(entry, import.meta.url).href);
