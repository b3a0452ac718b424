/**
 * The names of the contract's operations and topics, alone (no zod): what the Electron preload
 * exposes one function for. contract.ts checks that these lists and its schemas agree.
 */
export const OP_NAMES = [
  'system.info',
  'system.disk',
  'system.clean',
  'runs.estimate',
  'datasets.list',
  'datasets.add',
  'datasets.rescan',
  'datasets.delete',
  'datasets.stats',
  'datasets.images',
  'datasets.image',
  'datasets.completePath',
  'jobs.list',
  'jobs.stop',
  'preview.mask',
  'runs.create',
  'runs.start',
  'runs.pause',
  'runs.resume',
  'runs.stop',
  'runs.delete',
  'runs.list',
  'runs.get',
  'runs.log',
  'metrics.names',
  'metrics.series',
  'evaluations.list',
  'checkpoints.list',
  'checkpoints.export',
] as const;

export const TOPIC_NAMES = ['runs', 'run', 'metrics', 'jobs', 'datasets'] as const;

/** IPC channels between the preload and the main process (the preload's only use of ipcRenderer). */
export const CHANNELS = {
  call: 'camd:call',
  subscribe: 'camd:subscribe',
  unsubscribe: 'camd:unsubscribe',
  event: 'camd:event',
  pickFolder: 'camd:pick-folder',
} as const;
