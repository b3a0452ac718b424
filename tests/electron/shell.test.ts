// The Electron shell without an Electron binary (DESIGN.md "Electron facts"): `electron` is
// replaced by tests/support/fake-electron.ts, which records what the shell configures, clones
// IPC as Electron does, runs the REAL built preload bundle in a fresh context that can require
// only 'electron', and forks REAL trainer processes for utilityProcess. Everything behind the
// bridge is real: the services, SQLite files, sharp, the trainer worker, face photographs.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { copyFileSync, existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { CLM_DIR } from '../support/fixtures.js';
import { join } from 'node:path';
import sharp from 'sharp';
import { faceFolder, tempDir } from '../support/folders.js';
import { camd } from '../support/cli.js';
import { until } from '../support/app-host.js';
import { hostilePaths } from '../support/hostile-paths.js';
import { readTensorFile } from '../../trainer/src/store/checkpoint.js';
import { OP_NAMES, TOPIC_NAMES, CHANNELS } from '../../electron/common/names.js';
import { OPS, TOPICS, type ApiError, type Job, type TopicEvent } from '../../electron/common/contract.js';
import { contentSecurityPolicy } from '../../electron/common/csp.js';
import type { CamdBridge } from '../../electron/common/bridge.js';
import type { ApiClient } from '../../electron/common/client.js';
import type { Shell } from '../../electron/shell/start.js';

vi.mock('electron', async () => (await import('../support/fake-electron.js')).electronModule);
const {
  fake,
  app: fakeApp,
  FakeBrowserWindow,
  FakeEvent,
  FakeWebContents,
} = await import('../support/fake-electron.js');

const PRELOAD = join(import.meta.dirname, '..', '..', 'electron', 'dist', 'preload.cjs');
const MICRO = { preset: 'micro' as const, batch: 4, warmupEpochs: 0, blr: 0.05 };

let shell: Shell;
let win: InstanceType<typeof FakeBrowserWindow>;
let bridge: CamdBridge;
let api: ApiClient;
let ApiCallErrorClass: typeof import('../../electron/common/client.js').ApiCallError;
/** Operations that reached the main process and were answered with a result. */
const answered = new Set<string>();
const signalListeners = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };

beforeAll(async () => {
  if (!existsSync(PRELOAD)) throw new Error(`${PRELOAD} is missing: run \`npm run build\` first`);
  fakeApp.userData = tempDir('userdata');
  const { startShell } = await import('../../electron/shell/start.js');
  shell = (await startShell({ argv: ['/opt/CAMD Studio/camd-studio'], env: {} }))!;
  win = FakeBrowserWindow.all[0]!;
  bridge = win.webContents.pages[0]!.world['camd'] as CamdBridge;
  // the ops that the main process answered, seen at the channel
  const handler = fake.handlers.get(CHANNELS.call)!;
  fake.handlers.set(CHANNELS.call, async (e: unknown, op: unknown, params: unknown) => {
    const r = (await handler(e, op, params)) as { result?: unknown };
    if ('result' in r) answered.add(String(op));
    return r;
  });
  // the renderer's own client module, in a window whose preload gave it `camd`
  (globalThis as { window?: unknown }).window = { camd: bridge };
  api = (await import('../../renderer/src/api.js')).api;
  ApiCallErrorClass = (await import('../../electron/common/client.js')).ApiCallError;
});

afterAll(async () => {
  if (shell && shell.quit.state() !== 'closed') await shell.quit.request(true);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    for (const l of process.listeners(sig)) if (!signalListeners[sig].includes(l)) process.off(sig, l);
});

const errorOf = async (p: Promise<unknown>): Promise<ApiError> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiCallErrorClass) return e.error;
    throw e;
  }
  throw new Error('expected a failure');
};

/** The dataset of 12 faces the runs train on (added by the first test that needs it). */
let faces: number | null = null;
async function facesDataset(): Promise<number> {
  faces ??= await addAndScan(faceFolder(12, 'faces'));
  return faces;
}

async function addAndScan(path: string): Promise<number> {
  const jobs: Job[] = [];
  const off = await api.subscribe('jobs', {}, (j) => jobs.push(j));
  const { dataset, job } = await api.call('datasets.add', { path });
  await until('the scan to end', () => jobs.find((j) => j.id === job.id && j.status !== 'running'), Boolean);
  off();
  return dataset.id;
}

describe('the window and its rules', () => {
  it('one instance; the renderer through camd://app with the security flags of the checklist; data under userData', () => {
    expect(FakeBrowserWindow.all).toHaveLength(1);
    expect(win.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      preload: PRELOAD,
    });
    expect(win.options.webPreferences).not.toHaveProperty('enableBlinkFeatures');
    expect(win.webContents.mainFrame.url).toBe('camd://app/index.html');
    expect(win.visible).toBe(true);
    expect(fakeApp.sandboxed).toBe(true);
    expect(fake.schemes).toEqual([
      { scheme: 'camd', privileges: expect.objectContaining({ standard: true, secure: true, supportFetchAPI: true }) },
    ]);
    expect(shell.services.paths.root).toBe(join(fakeApp.userData, 'data'));
    expect(existsSync(join(fakeApp.userData, 'data', 'camd.db'))).toBe(true);
    const labels = JSON.stringify(fake.menu!.template);
    expect(labels).toContain('Add a Folder of Faces');
  });

  it('the data folder: --data-dir, then $CAMD_DATA_DIR, then userData/data', async () => {
    const { dataDirOf } = await import('../../electron/shell/start.js');
    expect(dataDirOf(['app', '--data-dir', '/srv/faces-data'], { CAMD_DATA_DIR: '/x' }, '/u')).toBe('/srv/faces-data');
    expect(dataDirOf(['app', '--data-dir=/srv/d2'], {}, '/u')).toBe('/srv/d2');
    expect(dataDirOf(['app'], { CAMD_DATA_DIR: '/x' }, '/u')).toBe('/x');
    expect(dataDirOf(['app'], {}, '/u')).toBe('/u/data');
  });

  it('navigation, new windows, webviews, permissions and requests off the machine are refused, in every web contents', () => {
    const other = new FakeWebContents(null);
    fakeApp.emit('web-contents-created', new FakeEvent(), other);
    for (const wc of [win.webContents, other]) {
      for (const ev of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
        const e = new FakeEvent();
        wc.emit(ev, e, 'https://example.com/');
        expect(e.defaultPrevented, ev).toBe(true);
      }
      expect(wc.windowOpenHandler!({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
      expect(wc.windowOpenHandler!({ url: 'camd://app/index.html' })).toEqual({ action: 'deny' });
    }
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fileSystem']) {
      let granted: boolean | null = null;
      fake.session.permissionRequest!(win.webContents, p, (ok) => (granted = ok));
      expect(granted, p).toBe(false);
      expect(fake.session.permissionCheck!(win.webContents, p, 'camd://app')).toBe(false);
    }
    expect(fake.session.devicePermission!({ deviceType: 'usb' })).toBe(false);
    const cancelled = (url: string) => {
      let c: boolean | null = null;
      fake.session.beforeRequest!.fn({ url }, (r) => (c = r.cancel));
      return c;
    };
    expect(fake.session.beforeRequest!.filter.urls).toEqual(['<all_urls>']);
    for (const u of [
      'https://example.com/x.js',
      'http://127.0.0.1:8080/',
      'ws://127.0.0.1:1/',
      'file:///etc/passwd',
      'camd://evil/index.html',
    ])
      expect(cancelled(u), u).toBe(true);
    for (const u of ['camd://app/index.html', 'camd://app/api/images/1/thumb?size=128', 'data:image/png;base64,AA=='])
      expect(cancelled(u), u).toBe(false);
  });
});

describe('the preload', () => {
  it('one CommonJS file that requires nothing but electron, exposing exactly the contract by name', () => {
    const code = readFileSync(PRELOAD, 'utf8');
    const requires = [...code.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
    expect(requires).toEqual(['electron']);
    expect(code).not.toMatch(/^\s*(import|export)\s/m);
    expect(code).not.toMatch(/\bimport\(/);
    const page = win.webContents.pages[0]!;
    expect(page.required).toEqual(['electron']);
    expect(Object.keys(page.world)).toEqual(['camd']);
    expect(Object.keys(bridge).sort()).toEqual(['ops', 'pathForFile', 'pickFolder', 'topics', 'unsubscribe']);
    expect(Object.keys(bridge.ops).sort()).toEqual([...OP_NAMES].sort());
    expect(Object.keys(bridge.ops).sort()).toEqual(Object.keys(OPS).sort());
    expect(Object.keys(bridge.topics).sort()).toEqual([...TOPIC_NAMES].sort());
    expect(Object.keys(bridge.topics).sort()).toEqual(Object.keys(TOPICS).sort());
    expect(Object.isFrozen(bridge.ops)).toBe(true);
    // nothing generic: no channel names, no send/on/invoke
    expect(JSON.stringify(Object.keys(bridge))).not.toMatch(/send|invoke|ipc|on\b/);
  });
});

describe('the camd:// scheme', () => {
  it('serves the bundle with the CSP header (no unsafe-eval), images by id, and refuses traversal, other hosts and methods', async () => {
    const index = await fake.request('camd://app/index.html');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = index.headers.get('content-security-policy')!;
    expect(csp).toBe(contentSecurityPolicy());
    expect(csp).not.toMatch(/unsafe-eval|unsafe-inline|ws:|http:/);
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await index.text();
    const script = /src="\.?(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fake.request(`camd://app${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('content-security-policy')).toBe(csp);
    expect((await fake.request('camd://app/')).status).toBe(200);
    const head = await fake.request('camd://app/index.html', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');

    const dir = faceFolder(2, 'scheme');
    const outside = tempDir('scheme-outside');
    writeFileSync(join(outside, 'secret.jpg'), 'not for you');
    symlinkSync(join(outside, 'secret.jpg'), join(dir, 'link.jpg'));
    const dataset = await addAndScan(dir);
    const imgs = (await api.call('datasets.images', { dataset })).items;
    const good = imgs.find((i) => i.status === 'ok')!;
    const thumb = await fake.request(`camd://app/api/images/${good.id}/thumb?size=128`);
    expect(thumb.status).toBe(200);
    expect((await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).format).toBe('webp');
    const file = await fake.request(`camd://app/api/images/${good.id}/file`);
    expect(file.status).toBe(200);
    const link = imgs.find((i) => i.rel_path === 'link.jpg');
    if (link) expect((await fake.request(`camd://app/api/images/${link.id}/file`)).status).toBe(404);
    for (const p of hostilePaths(good.id)) {
      const r = await fake.request(`camd://app${p}`);
      expect([400, 404], `${p} → ${r.status}`).toContain(r.status);
      expect(await r.text()).not.toMatch(/root:|not for you|"name": "camd-studio"/);
    }
    expect((await fake.request('camd://other/index.html')).status).toBe(404);
    expect((await fake.request('camd://app/index.html', { method: 'POST', body: '{}' })).status).toBe(405);
  });
});

describe('the bridge', () => {
  it('refuses a foreign page, a sub-frame, and bad arguments; a function cannot cross', async () => {
    // a page of another origin in a web contents that (wrongly) got the preload
    const foreign = new FakeWebContents(null, PRELOAD);
    await foreign.loadURL('https://evil.example/');
    const evil = foreign.pages[0]!.world['camd'] as CamdBridge;
    expect(await evil.ops['datasets.list']({})).toEqual({ error: expect.objectContaining({ cause: 'unauthorized' }) });
    expect(await evil.ops['datasets.add']({ path: '/' })).toEqual({
      error: expect.objectContaining({ cause: 'unauthorized' }),
    });
    expect(await evil.topics.runs({}, () => undefined)).toEqual({
      error: expect.objectContaining({ cause: 'unauthorized' }),
    });
    fake.openDialogAnswer = { canceled: false, filePaths: ['/etc'] };
    expect(await evil.pickFolder()).toBeNull();
    // a frame inside the app's page (even of the app's own origin) is not the app
    const sub = win.webContents.openFrame('camd://app/index.html');
    expect(await (sub.world['camd'] as CamdBridge).ops['system.disk']({})).toEqual({
      error: expect.objectContaining({ cause: 'unauthorized' }),
    });
    win.webContents.pages.pop();
    // the app's page: every argument through the contract's schemas
    expect(await bridge.ops['datasets.add']({ path: 42 })).toEqual({
      error: expect.objectContaining({ cause: 'usage', field: 'path' }),
    });
    expect(await bridge.ops['datasets.images']({ dataset: 1, extra: true })).toEqual({
      error: expect.objectContaining({ cause: 'usage', message: expect.stringMatching(/extra/) }),
    });
    expect(await bridge.ops['runs.create']({ kind: 'nope' })).toEqual({
      error: expect.objectContaining({ cause: 'usage' }),
    });
    expect(await errorOf(api.call('datasets.images', { dataset: -3 } as never))).toMatchObject({ cause: 'usage' });
    expect(await errorOf(api.subscribe('nope' as never, {} as never, () => undefined))).toMatchObject({
      cause: 'not-found',
    });
    expect(await bridge.topics.metrics({ runs: [] }, () => undefined)).toEqual({
      error: expect.objectContaining({ cause: 'usage' }),
    });
    const ev = { sender: win.webContents, senderFrame: win.webContents.mainFrame };
    expect(await fake.handlers.get(CHANNELS.call)!(ev, 'system.exec', {})).toEqual({
      error: expect.objectContaining({ cause: 'not-found' }),
    });
    expect(await fake.handlers.get(CHANNELS.call)!(ev, { op: 1 }, {})).toEqual({
      error: expect.objectContaining({ cause: 'usage' }),
    });
    expect(await fake.handlers.get(CHANNELS.subscribe)!(ev, -1, 'runs', {})).toEqual({
      error: expect.objectContaining({ cause: 'usage' }),
    });
    expect(
      await fake.handlers.get(CHANNELS.call)!({ sender: win.webContents, senderFrame: null }, 'datasets.list', {}),
    ).toEqual({ error: expect.objectContaining({ cause: 'unauthorized' }) });
    const detached = { url: 'camd://app/index.html', parent: null, detached: true };
    expect(
      await fake.handlers.get(CHANNELS.call)!({ sender: win.webContents, senderFrame: detached }, 'datasets.list', {}),
    ).toEqual({ error: expect.objectContaining({ cause: 'unauthorized' }) });
    // IPC clones its arguments: a function in the params never reaches the main process
    await expect(bridge.ops['datasets.list']({ f: () => 1 })).rejects.toThrow(/could not be cloned/);
    // the folder picker answers the app's page
    expect(await bridge.pickFolder()).toBe('/etc');
    fake.openDialogAnswer = { canceled: true, filePaths: [] };
    expect(await bridge.pickFolder()).toBeNull();
  });

  it('every contract operation: the renderer client → the preload → ipcMain → the service → SQLite; trainer and commands in utility processes', async () => {
    // system (camd info runs in a utility process)
    const info = await api.call('system.info', {});
    expect(info.dataDir).toBe(shell.services.paths.root);
    expect(info.backends).not.toHaveProperty('error');
    expect(
      fake.forked.some(
        (f) =>
          f.args.join(' ') === 'info --json' &&
          /camd\.js$/.test(f.modulePath) &&
          /^camd-command-\d+$/.test((f.options as { serviceName: string }).serviceName),
      ),
    ).toBe(true);
    expect((await api.call('system.disk', {})).map((d) => d.part)).toContain('store');
    // a folder dropped on the window: the preload gives its path, the dataset service scans it
    const dir = faceFolder(12, 'dropped');
    const dropped = bridge.pathForFile({ name: 'dropped', path: dir } as unknown as File);
    expect(dropped).toBe(dir);
    expect(await api.call('datasets.completePath', { prefix: dir.slice(0, -3) })).toContain(dir);
    const dataset = await addAndScan(dropped);
    expect(
      shell.services.store.db
        .prepare("SELECT count(*) FROM images WHERE dataset_id = ? AND status = 'ok'")
        .pluck()
        .get(dataset),
    ).toBe(12);
    expect((await api.call('datasets.list', {})).find((d) => d.id === dataset)).toMatchObject({ image_count: 12 });
    expect((await api.call('datasets.stats', { id: dataset })).formats['jpeg']).toBeGreaterThan(0);
    const first = (await api.call('datasets.images', { dataset, limit: 1 })).items[0]!;
    expect((await api.call('datasets.image', { id: first.id })).sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await api.call('faces.ofImage', { id: first.id })).toEqual([]); // no faces looked for in this folder
    // faces at ingest: `camd scan --faces` as a command in a utility process; a photo's face, dropped
    const photos = tempDir('shell-photos');
    copyFileSync(join(CLM_DIR, 'audrey.jpg'), join(photos, 'audrey.jpg'));
    const faceJobs: Job[] = [];
    const offFaces = await api.subscribe('jobs', {}, (j) => faceJobs.push(j));
    const added = await api.call('datasets.add', { path: photos, faces: { size: 96 } });
    await until(
      'the face scan to end',
      () => faceJobs.find((j) => j.id === added.job.id && j.status !== 'running'),
      Boolean,
    );
    offFaces();
    expect(faceJobs.filter((j) => j.id === added.job.id).at(-1)).toMatchObject({
      status: 'done',
      message: '1 face crop(s) from 1 face(s) found; 0 photo(s) without a usable face',
    });
    const photo = (await api.call('datasets.images', { dataset: added.dataset.id })).items[0]!;
    const [face] = await api.call('faces.ofImage', { id: photo.id });
    expect(face).toMatchObject({ status: 'kept', source_image_id: photo.id });
    expect(await api.call('faces.drop', { face: face!.id })).toMatchObject({ face: { status: 'dropped' }, job: null });
    // the sample faces: their photographs copied into the data folder, their faces found as a job (stopped here; the contract test follows one through)
    const sample = await api.call('datasets.addSample', {});
    expect(sample.dataset.name).toBe('sample-photos');
    await api.call('jobs.stop', { id: sample.job.id });
    await until(
      'the sample job to end',
      () => api.call('jobs.list', {}),
      (js) => js.find((j) => j.id === sample.job.id)?.status !== 'running',
    );
    const rescan = await api.call('datasets.rescan', { id: dataset });
    expect((await api.call('jobs.list', {})).map((j) => j.id)).toContain(rescan.id);
    expect((await api.call('jobs.stop', { id: rescan.id })).id).toBe(rescan.id);
    await until(
      'the rescan to end',
      () => api.call('jobs.list', {}),
      (js) => js.find((j) => j.id === rescan.id)?.status !== 'running',
    );
    const preview = await api.call('preview.mask', { image: first.id, preset: 'micro', maskRatio: 0.5 });
    expect(preview.masked + preview.visible).toBe(preview.tokens);
    // camd selftest in a utility process
    const est = await api.call('runs.estimate', { dataset, settings: MICRO });
    expect(est.stepSeconds).toBeGreaterThan(0);

    // a run: the worker in a utility process, events over the bridge's subscriptions
    const run = await api.call('runs.create', {
      kind: 'pretrain',
      name: 'in-the-app',
      dataset,
      settings: { ...MICRO, steps: 400, checkpointEvery: 3 },
      start: false,
    });
    const points: TopicEvent<'metrics'>[] = [];
    const events: string[] = [];
    const statuses: string[] = [];
    const offs = [
      await api.subscribe('metrics', { runs: [run.id], names: ['loss'] }, (e) => points.push(e)),
      await api.subscribe('run', { id: run.id }, (e) => events.push(e.type)),
      await api.subscribe('runs', {}, (r) => r.id === run.id && statuses.push(r.status)),
      await api.subscribe('datasets', {}, () => undefined),
    ];
    await api.call('runs.start', { id: run.id });
    await until(
      '4 loss points',
      () => points.length,
      (n) => n >= 4,
    );
    const worker = fake.forked.find((f) => f.args[0] === 'worker')!;
    expect(worker.options).toMatchObject({
      stdio: ['ignore', 'pipe', 'pipe'],
      serviceName: expect.stringMatching(/^camd-trainer-\d+$/),
    });
    expect(shell.services.store.run(run.id)!.pid).toBe(worker.pid);
    await api.call('runs.pause', { id: run.id });
    const paused = await until(
      'paused',
      () => api.call('runs.get', { id: run.id }),
      (r) => r.status === 'paused',
    );
    expect(
      (await api.call('checkpoints.list', { run: run.id })).some(
        (c) => c.kind === 'full' && c.step === paused.last_step && c.exists,
      ),
    ).toBe(true);
    points.length = 0;
    await api.call('runs.resume', { id: run.id });
    await until(
      'steps after the resume',
      () => points.length,
      (n) => n >= 2,
    );
    expect(points[0]!.step).toBe(paused.last_step + 1);
    await api.call('runs.stop', { id: run.id });
    const stopped = await until(
      'stopped',
      () => api.call('runs.get', { id: run.id }),
      (r) => r.status === 'stopped',
    );
    await until(
      'the stopped event',
      () => statuses,
      (st) => st.includes('stopped'),
    );
    expect(statuses).toEqual(expect.arrayContaining(['running', 'pausing', 'paused', 'stopping', 'stopped']));
    expect(events).toContain('step');
    for (const off of offs) off();
    expect((await api.call('runs.list', { kind: 'pretrain' })).map((r) => r.id)).toContain(run.id);
    expect((await api.call('runs.log', { id: run.id, lines: 50 })).lines.join('\n')).toMatch(/starting pretrain run/);
    expect(await api.call('metrics.names', { runs: [run.id] })).toContain('loss');
    // taken to a cluster: camd cluster-pack in a utility process
    expect((await api.call('runs.clusterPack', { id: run.id, gpus: 1 })).script).toContain('CAMD_pretrain.py');
    // what it sees: camd see in a utility process, its pictures back as data URLs
    expect((await api.call('runs.see', { id: run.id })).prediction).toMatch(/^data:image\/png;base64,/);
    // a head-pose run's angles on a face: camd predict in a utility process (the run trained by the CLI into this store)
    const poseDir = faceFolder(4, 'shell-pose-faces');
    const labelled = camd(['pseudo-label', poseDir, '--task', 'pose', '--json']);
    expect(labelled.status, labelled.stderr).toBe(0);
    const poseRun = camd([
      'finetune',
      '--task',
      'pose',
      '--format',
      '300w-lp',
      '--data',
      poseDir,
      '--init',
      'none',
      '--preset',
      'micro',
      '--img-size',
      '32',
      '--epochs',
      '1',
      '--batch',
      '2',
      '--out',
      join(tempDir('shell-pose'), 'run'),
      '--db',
      shell.services.paths.db,
      '--json',
    ]);
    expect(poseRun.status, poseRun.stderr).toBe(0);
    const poseRunId = (poseRun.events.find((e) => e.type === 'start') as unknown as { run_id: string }).run_id;
    const onFace = (await api.call('datasets.images', { dataset: await facesDataset(), limit: 1 })).items[0]!;
    const seenPose = await api.call('runs.predictImage', { id: poseRunId, image: onFace.id });
    expect(seenPose).toMatchObject({ task: 'pose', scheme: null });
    expect(seenPose.task === 'pose' ? seenPose.faces[0]!.pose : null).toEqual({
      yaw: expect.any(Number),
      pitch: expect.any(Number),
      roll: expect.any(Number),
    });
    // a parsing label map a person corrects: the face mesh's regions as the start (camd annotations
    // start --task parsing in a utility process), saved through the trainer's PNG check, exported
    const shown = await api.call('datasets.image', { id: onFace.id });
    const [w, h] = [shown.width!, shown.height!];
    const mapStart = await api.call('geometry.parsingStart', { image: onFace.id, scheme: 'lapa-11' });
    expect(mapStart).toMatchObject({ scheme: 'lapa-11', source: 'mesh' });
    const startPng = Buffer.from(mapStart.mask, 'base64');
    const startMeta = await sharp(startPng).metadata();
    expect([startMeta.width, startMeta.height, startMeta.channels]).toEqual([w, h, 1]);
    expect((await sharp(startPng).extractChannel(0).raw().toBuffer()).some((v) => v === 1)).toBe(true); // skin somewhere
    const savedMap = await api.call('geometry.save', {
      task: 'parsing',
      image: onFace.id,
      scheme: 'lapa-11',
      mask: mapStart.mask,
      labeller: 'ana',
      source: 'mesh',
    });
    expect(savedMap.label).toMatchObject({ image: onFace.id, scheme: 'lapa-11', source: 'mesh', labeller: 'ana' });
    const wider = await sharp(Buffer.alloc((w + 1) * h, 1), { raw: { width: w + 1, height: h, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    const wrongSize = await errorOf(
      api.call('geometry.save', {
        task: 'parsing',
        image: onFace.id,
        scheme: 'lapa-11',
        mask: wider.toString('base64'),
        labeller: 'ana',
        source: 'hand',
      }),
    );
    expect(wrongSize).toMatchObject({
      cause: 'input',
      field: 'mask',
      message: `the label map is ${w + 1}×${h}; the image is ${w}×${h}`,
    });
    const lapaOut = await api.call('geometry.export', {
      dataset: await facesDataset(),
      task: 'parsing',
      format: 'lapa',
    });
    expect(lapaOut).toMatchObject({
      faces: 1,
      readBack: `camd finetune --task parsing --format lapa --data ${lapaOut.folder}`,
    });
    // face geometry a person draws: the face mesh's start (camd annotations start in a utility
    // process), saved with its fitted pose, read, listed, exported, deleted
    const start = await api.call('geometry.start', { image: onFace.id, scheme: '300w-68' });
    expect(start).toMatchObject({ source: 'mesh', points: expect.any(Array) });
    expect(fake.forked.some((f) => f.args[0] === 'annotations' && f.args[1] === 'start')).toBe(true);
    const fit = await api.call('geometry.poseOf', { points: start.points });
    const savedGeometry = await api.call('geometry.save', {
      task: 'landmarks',
      image: onFace.id,
      scheme: '300w-68',
      points: start.points,
      source: 'mesh',
      labeller: 'shell',
      withPose: true,
    });
    expect(savedGeometry.pose).toMatchObject({ pose: { yaw: fit.yaw, pitch: fit.pitch, roll: fit.roll } });
    expect(await api.call('geometry.get', { image: onFace.id, task: 'pose', scheme: 'ypr' })).toMatchObject({
      labeller: 'shell',
    });
    expect(
      await api.call('geometry.annotated', { dataset: await facesDataset(), task: 'landmarks', scheme: '300w-68' }),
    ).toEqual({ images: [onFace.id] });
    const geometryOut = await api.call('geometry.export', {
      dataset: await facesDataset(),
      task: 'pose',
      format: 'csv',
    });
    expect(geometryOut.faces).toBe(1);
    expect(await api.call('geometry.delete', { image: onFace.id, task: 'pose', scheme: 'ypr' })).toEqual({
      deleted: true,
    });
    // a run of the released code from a cluster: camd import-run in a utility process
    const torchrunOut = tempDir('shell-torchrun');
    writeFileSync(
      join(torchrunOut, 'log.txt'),
      `${[0, 1].map((e) => JSON.stringify({ train_loss: 1 - e / 2, train_lr: 1e-4, epoch: e })).join('\n')}\n`,
    );
    expect(await api.call('runs.importTorchrun', { dir: torchrunOut })).toMatchObject({
      kind: 'pretrain',
      epochs: 2,
      metrics: ['loss', 'lr'],
      updated: false,
    });
    const [loss] = await api.call('metrics.series', { runs: [run.id], names: ['loss'] });
    expect(loss!.x).toHaveLength(stopped.last_step);
    expect(await api.call('evaluations.list', { run: run.id })).toEqual([]);
    const encoder = (await api.call('checkpoints.list', { run: run.id })).find((c) => c.kind === 'encoder')!;
    // camd export in a utility process
    const exp = await api.call('checkpoints.export', { id: encoder.id, format: 'safetensors' });
    expect(existsSync(exp.out)).toBe(true);
    expect(
      shell.services.store.db.prepare('SELECT count(*) FROM metrics WHERE run_id = ?').pluck().get(run.id),
    ).toBeGreaterThanOrEqual(stopped.last_step);
    // labelling: a schema, labels with undo and redo, the queue, progress, split, export
    const schema = await api.call('labels.createSchema', { dataset, task: 'fer', names: ['a', 'b'] });
    expect((await api.call('labels.schemas', { dataset })).map((x) => x.id)).toEqual([schema.id]);
    const [ca, cb] = schema.fields;
    const faceIds = (await api.call('datasets.images', { dataset, status: 'ok' })).items.map((i) => i.id);
    for (const [k, id] of faceIds.entries())
      await api.call('labels.write', {
        schema: schema.id,
        images: [id],
        labeller: 'ana',
        changes: [{ slot: 0, value: k % 2 ? cb!.id : ca!.id }],
      });
    expect((await api.call('labels.undo', { schema: schema.id, labeller: 'ana' })).undone!.images).toEqual([
      faceIds.at(-1),
    ]);
    expect(await api.call('labels.redo', { schema: schema.id, labeller: 'ana' })).toMatchObject({
      canUndo: true,
      canRedo: false,
    });
    expect(await api.call('labels.undoState', { schema: schema.id, labeller: 'ana' })).toEqual({
      canUndo: true,
      canRedo: false,
    });
    expect((await api.call('labels.of', { schema: schema.id, images: [faceIds[0]!] })).annotations).toHaveLength(1);
    expect((await api.call('labels.queue', { schema: schema.id, filter: 'labelled' })).total).toBe(faceIds.length);
    expect((await api.call('labels.progress', { schema: schema.id })).labelled).toBe(faceIds.length);
    expect((await api.call('labels.split', { schema: schema.id, seed: 1 })).assigned).toBe(faceIds.length);
    expect(existsSync((await api.call('labels.export', { schema: schema.id, format: 'csv' })).files[0]!)).toBe(true);
    const extra = await api.call('labels.addField', { schema: schema.id, kind: 'class', name: 'c' });
    expect((await api.call('labels.renameField', { id: extra.id, name: 'c2' })).previous).toBe('c');
    expect((await api.call('labels.setShortcut', { id: extra.id, key: 'x' })).shortcut).toBe('x');
    expect((await api.call('labels.deleteField', { id: extra.id })).labels).toBe(0);
    expect((await api.call('labels.restoreField', { id: extra.id })).field.deleted_at).toBeNull();
    expect(await api.call('labels.predictionRuns', { schema: schema.id })).toEqual([]);
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.jpg'))
      .sort();
    writeFileSync(
      join(dir, 'labels.csv'),
      `${['path,label', ...files.map((f, k) => `${f},${k % 2 ? 'x' : 'y'}`)].join('\n')}\n`,
    );
    expect(await api.call('labels.import', { dataset, format: 'csv' })).toMatchObject({
      images: files.length,
      schema: { name: 'labels (CSV)' },
    });
    // the label curve: camd label-curve in a utility process, on the encoder just exported
    const curveJob = await api.call('labels.curve', { schema: schema.id, checkpoint: encoder.id });
    const curveEnd = await until(
      'the curve job',
      () => api.call('jobs.list', {}),
      (js) => js.some((j) => j.id === curveJob.id && j.status !== 'running'),
    );
    const curve = curveEnd.find((j) => j.id === curveJob.id)!;
    expect(curve.status, curve.message ?? '').toBe('done');
    expect(fake.forked.some((f) => f.args[0] === 'label-curve')).toBe(true);
    // predictions: a fine-tuned run of the store whose model file has gone fails as a job, with the reason
    shell.services.store.createRun({ id: 'gone-model', kind: 'finetune', datasetId: dataset, config: {}, seed: 0 });
    shell.services.store.db
      .prepare(
        "INSERT INTO checkpoints (run_id, step, kind, path, sha256, bytes, created_at) VALUES ('gone-model', 1, 'classifier', ?, 'x', 1, ?)",
      )
      .run(join(tempDir('gone'), 'best.safetensors'), new Date().toISOString());
    const predictJob = await api.call('labels.predict', { schema: schema.id, run: 'gone-model' });
    const predictEnd = (
      await until(
        'the predict job',
        () => api.call('jobs.list', {}),
        (js) => js.some((j) => j.id === predictJob.id && j.status !== 'running'),
      )
    ).find((j) => j.id === predictJob.id)!;
    expect(predictEnd).toMatchObject({ status: 'failed', message: expect.stringMatching(/best\.safetensors/) });
    expect(await api.call('labels.deleteSchema', { id: schema.id })).toEqual({ labels: faceIds.length });
    expect((await api.call('system.clean', { what: 'exports' })).part).toBe('exports');
    expect(await api.call('runs.delete', { id: run.id, files: true })).toEqual({ deleted: true });
    const other = await addAndScan(faceFolder(2, 'to-delete'));
    expect(await api.call('datasets.delete', { id: other })).toEqual({ deleted: true });
    expect(shell.services.store.db.prepare('SELECT count(*) FROM datasets WHERE id = ?').pluck().get(other)).toBe(0);

    expect([...answered].sort()).toEqual([...OP_NAMES].sort());
  });

  it("a trainer process that dies: the run is failed with Electron's reason in words", async () => {
    const dataset = await facesDataset();
    const run = await api.call('runs.create', {
      kind: 'pretrain',
      dataset,
      settings: { ...MICRO, steps: 400, checkpointEvery: 2 },
    });
    const steps: number[] = [];
    const off = await api.subscribe('run', { id: run.id }, (e) => e.type === 'step' && steps.push(e.step));
    await until(
      'step 3',
      () => steps.length,
      (n) => n >= 3,
    );
    process.kill(shell.services.store.run(run.id)!.pid!, 'SIGKILL');
    const failed = await until(
      'failed',
      () => api.call('runs.get', { id: run.id }),
      (r) => r.status === 'failed',
    );
    off();
    expect(failed.error).toMatch(/^the trainer process was killed \(exit code 137\)/);
    expect((await api.call('checkpoints.list', { run: run.id })).some((c) => c.kind === 'full' && c.exists)).toBe(true);
  });
});

describe('quitting', () => {
  it('with a run training: asks; "Keep training" keeps it; "Pause and quit" writes a checkpoint, closes the store, quits', async () => {
    const dataset = await facesDataset();
    const run = await api.call('runs.create', {
      kind: 'pretrain',
      name: 'quit',
      dataset,
      settings: { ...MICRO, steps: 400, checkpointEvery: 1000 },
    });
    const steps: number[] = [];
    const off = await api.subscribe('run', { id: run.id }, (e) => e.type === 'step' && steps.push(e.step));
    await until(
      'step 3',
      () => steps.length,
      (n) => n >= 3,
    );
    // the menu's Quit (or Cmd+Q): asked, kept
    fake.messageBoxAnswer = 1;
    fakeApp.quit();
    await until(
      'the question',
      () => fake.messageBoxes.length,
      (n) => n === 1,
    );
    expect(fake.messageBoxes[0]).toMatchObject({
      buttons: ['Pause and quit', 'Keep training'],
      cancelId: 1,
      message: expect.stringContaining(run.id.slice(0, 8)),
    });
    await until(
      'asked',
      () => shell.quit.state(),
      (s) => s === 'open',
    );
    expect(fakeApp.quitted).toBe(false);
    const n = steps.length;
    await until(
      'more steps',
      () => steps.length,
      (m) => m > n + 2,
    );
    expect(shell.services.store.run(run.id)!.status).toBe('running');
    // the window's close button: asked, paused, quit
    fake.messageBoxAnswer = 0;
    expect(win.close()).toBe(false);
    await until('quit', () => fakeApp.quitted, Boolean, 60_000);
    off();
    expect(fake.messageBoxes).toHaveLength(2);
    expect(shell.quit.state()).toBe('closed');
    expect(shell.services.store.db.open).toBe(false);
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(shell.services.paths.db, { readonly: true });
    const row = db.prepare('SELECT status, last_step FROM runs WHERE id = ?').get(run.id) as {
      status: string;
      last_step: number;
    };
    const ck = db
      .prepare("SELECT path, step FROM checkpoints WHERE run_id = ? AND kind = 'full' ORDER BY step DESC")
      .get(run.id) as { path: string; step: number };
    db.close();
    expect(row.status).toBe('paused');
    // checkpointEvery 1000: this checkpoint is the pause's, complete and readable, and no temp is left
    expect(ck.step).toBe(row.last_step);
    expect(readTensorFile(ck.path).tensors.size).toBeGreaterThan(0);
    expect(readdirSync(join(ck.path, '..')).filter((f) => /\.tmp|\.partial/.test(f))).toEqual([]);
  });
});
