// The release checklist's checks inside a real Electron (`npx electron build/release-check/check.mjs
// --faces DIR --report FILE [--gpu]`, run by build/release-check.sh on a machine with network
// access and a display): the app's own main process code (electron/dist) with a throw-away
// userData and data folder, then
//   1. --smoke-test's checks: camd://app rendered, no Node in the page, process.sandboxed in the
//      preload's world, every operation on the bridge, SQLite under Electron's ABI, camd info in a
//      utility process;
//   2. a folder dropped on the window (Chrome DevTools Protocol drag events with the folder as a
//      file) reaches the dataset service and is scanned;
//   3. a tiny pre-train in a utility process (seen in app.getAppMetrics), done, with a checkpoint;
//   4. with --gpu: the same on the tensorflow backend (tfjs-node-gpu from $CAMD_BACKENDS_DIR) with
//      CUDA usable;
//   5. closing the app with a run training pauses it with a complete checkpoint.
// Writes a JSON report and exits 0 only when every check held.
import { app } from 'electron';
import { existsSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const argv = process.argv;
const arg = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const faces = resolve(arg('--faces') ?? '');
const same = (a, b) => existsSync(a) && existsSync(b) && realpathSync(a) === realpathSync(b);
const report = resolve(arg('--report') ?? 'release-check.json');
const gpu = argv.includes('--gpu');
const tmp = mkdtempSync(join(tmpdir(), 'camd-release-check-'));
app.setPath('userData', join(tmp, 'userData'));

const here = new URL('.', import.meta.url);
const dist = (p) => new URL(`../../electron/dist/${p}`, here).href;
const { startShell } = await import(dist('shell/start.js'));
const { smokeCheck } = await import(dist('shell/smoke.js'));
const { call, handlers } = await import(dist('api/handlers.js'));

const checks = [];
const check = (name, ok, detail) => {
  checks.push({ name, ok: Boolean(ok), detail });
  console.log(
    `${ok ? 'PASS' : 'FAIL'}  ${name}${detail !== undefined ? `  ${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : ''}`,
  );
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, get, ms = 120_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(200);
  }
}

let code = 1;
try {
  if (!existsSync(faces)) throw new Error(`--faces ${faces}: no such folder`);
  const shell = await startShell({ argv: ['electron', '--data-dir', join(tmp, 'data')], env: process.env });
  const api = handlers(shell.services);
  const op = (name, params) => call(api, name, params);

  // 1. the window, the sandbox, the ABI, a utility process
  const smoke = await smokeCheck(shell);
  check('window loads camd://app/ and renders', smoke.url.startsWith('camd://app/') && smoke.rendered, smoke.url);
  check('page has no Node globals', !smoke.pageHasNode);
  check('preload: process.sandboxed is true', smoke.preloadSandboxed);
  check(
    'bridge exposes every operation',
    smoke.bridgeOps > 0 && !smoke.failures.some((f) => f.startsWith('the bridge')),
    smoke.bridgeOps,
  );
  check(`better-sqlite3 loads under Electron ${smoke.electron} (ABI ${smoke.abi})`, smoke.store);
  check('camd info in a utility process', smoke.trainer && smoke.trainer !== 'none selected', smoke.trainer);

  // 2. a folder dropped on the window
  const wc = shell.window().webContents;
  wc.debugger.attach('1.3');
  const [w, h] = shell.window().getContentSize();
  for (const type of ['dragEnter', 'dragOver', 'drop']) {
    await wc.debugger.sendCommand('Input.dispatchDragEvent', {
      type,
      x: Math.round(w / 2),
      y: Math.round(h / 2),
      data: { items: [], files: [faces], dragOperationsMask: 1 },
    });
  }
  wc.debugger.detach();
  let dataset = null;
  try {
    dataset = await until(
      'the dropped folder in the store',
      async () => (await op('datasets.list', {})).find((d) => same(d.root, faces) && d.image_count > 0),
      60_000,
    );
  } catch (e) {
    check('a dropped folder reaches the dataset service', false, String(e.message));
  }
  if (dataset) check('a dropped folder reaches the dataset service', true, `${dataset.image_count} images`);
  else dataset = (await op('datasets.add', { path: faces })).dataset; // the other checks go on
  await until('the scan', async () =>
    (await op('datasets.list', {})).find((d) => d.id === dataset.id && d.image_count >= 4),
  );

  // 3. (and 4.) a tiny pre-train in a utility process
  const pretrain = async (backend) => {
    const run = await op('runs.create', {
      kind: 'pretrain',
      name: `release-check-${backend}`,
      dataset: dataset.id,
      settings: { preset: 'micro', batch: 4, steps: 8, warmupEpochs: 0, backend },
      start: true,
    });
    let utility = false;
    const done = await until(
      `the ${backend} run`,
      async () => {
        utility ||= app
          .getAppMetrics()
          .some((m) => m.type === 'Utility' && /camd-trainer/.test(m.name ?? m.serviceName ?? ''));
        const r = await op('runs.get', { id: run.id });
        return ['done', 'failed', 'stopped', 'interrupted'].includes(r.status) ? r : null;
      },
      600_000,
    );
    check(
      `pre-train on ${backend} in a utility process`,
      done.status === 'done' && utility && (backend === 'auto' || done.backend === backend),
      { status: done.status, backend: done.backend, steps: done.last_step, error: done.error ?? undefined, utility },
    );
    const cks = await op('checkpoints.list', { run: run.id });
    check(
      `pre-train on ${backend}: checkpoint written`,
      cks.some((c) => c.kind === 'encoder' && c.exists),
    );
  };
  await pretrain('auto');
  if (gpu) {
    const info = await op('system.info', {});
    const tf = info.backends.tensorflow ?? {};
    check(
      'tfjs-node-gpu found in $CAMD_BACKENDS_DIR',
      JSON.stringify(tf).includes('tfjs-node-gpu') && tf.loaded,
      tf.reason ?? 'loaded',
    );
    await pretrain('tensorflow');
  }

  // 5. closing with a run training: paused, with a complete checkpoint
  const run = await op('runs.create', {
    kind: 'pretrain',
    name: 'release-check-quit',
    dataset: dataset.id,
    settings: { preset: 'micro', batch: 4, steps: 100000, warmupEpochs: 0, checkpointEvery: 100000 },
    start: true,
  });
  await until('a few steps', async () => (await op('runs.get', { id: run.id })).last_step >= 3);
  const db = shell.services.paths.db;
  await shell.services.close();
  const Database = (await import('better-sqlite3')).default;
  const ro = new Database(db, { readonly: true });
  const row = ro.prepare('SELECT status, last_step FROM runs WHERE id = ?').get(run.id);
  const ck = ro
    .prepare("SELECT path, step FROM checkpoints WHERE run_id = ? AND kind = 'full' ORDER BY step DESC")
    .get(run.id);
  ro.close();
  check(
    'closing with a run training pauses it with a checkpoint',
    row.status === 'paused' && ck && ck.step === row.last_step && existsSync(ck.path),
    { status: row.status, step: row.last_step, checkpoint: ck?.step },
  );
  code = checks.every((c) => c.ok) ? 0 : 1;
} catch (e) {
  check('the checks ran to the end', false, e instanceof Error ? (e.stack ?? e.message) : String(e));
}
writeFileSync(
  report,
  JSON.stringify(
    { electron: process.versions.electron, platform: `${process.platform}-${process.arch}`, checks },
    null,
    2,
  ),
);
console.log(`\n${checks.filter((c) => c.ok).length}/${checks.length} checks passed; report: ${report}`);
app.exit(code);
