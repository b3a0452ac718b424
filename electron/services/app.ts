/**
 * The app's services over one data folder: the store, background jobs, datasets, images, mask
 * previews, runs and their supervisor (and the watch on other processes' runs), metrics, results, labelling, face geometry annotation and system information, and the event
 * bus they publish on. Plain Node (no Electron): the Electron main process, the browser-mode host
 * and the tests all open the same App.
 */
import { basename } from 'node:path';
import { CamdError, makeFolder, Store } from 'camd-studio/trainer';
import { EventBus } from '../base/bus.js';
import { Jobs } from './jobs.js';
import { Datasets } from './datasets.js';
import { Images } from './images.js';
import { ThumbQueue } from './thumb-queue.js';
import { Runs } from './runs.js';
import { Metrics } from './metrics.js';
import { Results } from './results.js';
import { System } from './system.js';
import { Labels } from './labels.js';
import { GeometryLabels } from './geometry-labels.js';
import { StoreWatch } from './store-watch.js';
import { appPaths, type AppPaths } from './paths.js';
import { camdBin } from './package-root.js';
import { Supervisor, type SupervisorOptions } from '../supervisor/supervisor.js';
import { childProcessLauncher, type Launcher } from '../supervisor/launcher.js';
import { nodeCommand, type CamdCommand } from './camd-command.js';

export interface AppOptions {
  dataDir: string;
  /** How workers are started (default: `node camd.js worker` child processes; Electron passes its utilityProcess adapter). */
  launcher?: Launcher;
  /** How one-shot camd commands run (default: `node camd.js …` child processes; Electron passes utility processes). */
  command?: CamdCommand;
  supervisor?: SupervisorOptions;
}

export class App {
  readonly paths: AppPaths;
  readonly store: Store;
  readonly bus = new EventBus();
  readonly jobs: Jobs;
  readonly datasets: Datasets;
  readonly images: Images;
  readonly supervisor: Supervisor;
  readonly runs: Runs;
  readonly metrics: Metrics;
  readonly results: Results;
  readonly system: System;
  readonly labels: Labels;
  readonly geometry: GeometryLabels;
  /** Runs and scans of other processes on the same store (a `camd` in a terminal), published as they change. */
  readonly watch: StoreWatch;

  constructor(opts: AppOptions) {
    this.paths = appPaths(opts.dataDir);
    for (const d of [this.paths.root, this.paths.runs, this.paths.logs]) {
      try {
        makeFolder(d, d === this.paths.root ? 'the data folder' : `the data folder's ${basename(d)} folder`);
      } catch (e) {
        throw new CamdError('input', `${(e as Error).message}; use another data folder (--data-dir)`);
      }
    }
    this.store = new Store(this.paths.db, { chooser: 'data folder (--data-dir)' });
    this.jobs = new Jobs(this.bus);
    const command = opts.command ?? nodeCommand(camdBin());
    this.datasets = new Datasets(this.store, this.jobs, this.bus, command);
    // thumbnails made ahead of need wait while a run trains (they would slow it down)
    this.images = new Images(
      this.store,
      this.paths.thumbs,
      new ThumbQueue({ paused: () => this.supervisor.active() !== null }),
    );
    // a scan that ended: its dataset's grid, and that of the face crops it made (`--faces`)
    this.bus.on('jobs', (j) => {
      if (j.kind !== 'scan' || j.status !== 'done' || j.dataset === null) return;
      this.images.prefetch(j.dataset);
      for (const id of this.store.derivedDatasetIds(j.dataset)) this.images.prefetch(id);
    });
    this.supervisor = new Supervisor(
      this.store,
      this.bus,
      opts.launcher ?? childProcessLauncher(camdBin()),
      this.paths.db,
      this.paths.logs,
      opts.supervisor,
    );
    this.runs = new Runs(this.store, this.paths, this.datasets, this.supervisor, this.bus, command);
    this.metrics = new Metrics(this.store);
    this.results = new Results(this.store, command, this.paths.exports);
    this.system = new System(this.paths, command);
    this.labels = new Labels(this.store, this.datasets, this.jobs, this.bus, command, this.paths.exports);
    this.geometry = new GeometryLabels(this.store, this.datasets, this.runs, command, this.paths.exports);
    this.supervisor.recover();
    this.watch = new StoreWatch(this.store, this.bus, this.datasets, () => this.supervisor.active()).start();
  }

  /** Pauses the running run (checkpoint), stops jobs, closes the store. */
  async close(): Promise<void> {
    this.watch.stop();
    this.images.stopAhead();
    for (const j of this.jobs.list()) if (j.status === 'running') this.jobs.stop(j.id);
    await this.supervisor.shutdown();
    for (const j of this.jobs.list()) if (j.status === 'running') await this.jobs.settled(j.id);
    this.images.stopAhead(); // again: a scan that ended meanwhile queued its dataset's
    await this.images.queue.settled(); // a thumbnail being made is written before the store closes
    this.labels.flush();
    this.store.close();
  }
}
