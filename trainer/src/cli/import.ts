/** `camd import FILE --out FILE`: a PyTorch ViT encoder as our encoder file (interop/vit-import.ts). */
import { resolve } from 'node:path';
import { importVit } from '../interop/vit-import.js';
import { PRESET_NAMES, type PresetName } from '../model/config.js';
import { CamdError } from '../util/errors.js';

export interface ImportCliOptions {
  out?: string;
  teacher?: boolean;
  preset?: string;
  json?: boolean;
}

export async function importCommand(file: string, o: ImportCliOptions): Promise<void> {
  if (!o.out) throw new CamdError('usage', 'camd import needs --out FILE (the encoder file to write, e.g. encoder.safetensors)');
  if (o.preset !== undefined && !(PRESET_NAMES as readonly string[]).includes(o.preset)) throw new CamdError('usage', `--preset must be one of ${PRESET_NAMES.join(', ')}, got '${o.preset}'`);
  const r = await importVit(resolve(file), resolve(o.out), { ...(o.teacher ? { teacher: true } : {}), ...(o.preset ? { preset: o.preset as PresetName } : {}) });
  if (o.json) return void process.stdout.write(JSON.stringify({ type: 'import', ...r }) + '\n');
  const m = r.model;
  process.stdout.write(
    `${r.source}: the ${r.which} ViT encoder, ${m.embedDim} wide, ${m.depth} deep, ${m.numHeads} heads (preset ${r.preset}), ${m.patchSize}-px patches at ${m.imgSize} px; ${r.tensors} tensors\n` +
      (r.ignored.length ? `  not part of the encoder, left out: ${r.ignored.slice(0, 8).join(', ')}${r.ignored.length > 8 ? `, … (${r.ignored.length} in all)` : ''}\n` : '') +
      `  written: ${r.out} (camd finetune --init, camd probe --checkpoint, camd see --data read it)\n`,
  );
}

export interface ImportRunCliOptions {
  name?: string;
  db?: string;
  json?: boolean;
}

/** `camd import-run DIR`: a torchrun run of the released scripts into the store (interop/import-run.ts). */
export async function importRunCommand(dir: string, o: ImportRunCliOptions): Promise<void> {
  const { importRun } = await import('../interop/import-run.js');
  const { Store } = await import('../store/store.js');
  const { defaultDbPath } = await import('../util/paths.js');
  const store = new Store(o.db ? resolve(o.db) : defaultDbPath());
  try {
    const r = await importRun(store, resolve(dir), o.name ? { name: o.name } : {});
    if (o.json) return void process.stdout.write(JSON.stringify({ type: 'import-run', ...r, db: store.file }) + '\n');
    process.stdout.write(
      `${r.updated ? 'updated' : 'imported'}: a ${r.kind} run of ${r.epochs} epoch(s) from ${resolve(dir)} (run ${r.runId})\n` +
        `  metrics by epoch: ${r.metrics.join(', ')}\n` +
        `  settings: ${r.args ? `the args of ${r.checkpoints[0]?.split('/').pop()}` : 'none found (no readable checkpoint-*.pth with args)'}\n` +
        `  checkpoints: ${r.checkpoints.length ? r.checkpoints.map((c) => c.split('/').pop()).join(', ') : 'none'} (camd import FILE reads their encoder)\n` +
        `  store: ${store.file}\n`,
    );
  } finally {
    store.close();
  }
}

export interface ClusterPackCliOptions {
  out?: string;
  gpus?: string;
  preset?: string;
  copy?: boolean;
  modelName?: string;
  json?: boolean;
}

/** `camd cluster-pack RUN_DIR --out DIR` (interop/cluster-pack.ts). */
export async function clusterPackCommand(runDir: string, o: ClusterPackCliOptions): Promise<void> {
  if (!o.out) throw new CamdError('usage', 'camd cluster-pack needs --out DIR');
  if (o.preset !== undefined && !(PRESET_NAMES as readonly string[]).includes(o.preset)) throw new CamdError('usage', `--preset must be one of ${PRESET_NAMES.join(', ')}, got '${o.preset}'`);
  const { clusterPack } = await import('../interop/cluster-pack.js');
  const { parseNumber } = await import('./parse.js');
  const gpus = parseNumber('--gpus', o.gpus, 'int');
  const r = await clusterPack(resolve(runDir), resolve(o.out), { ...(gpus !== undefined ? { gpus } : {}), ...(o.preset ? { preset: o.preset as PresetName } : {}), ...(o.copy ? { copy: true } : {}), ...(o.modelName !== undefined ? { modelName: o.modelName } : {}) });
  if (o.json) return void process.stdout.write(JSON.stringify({ type: 'cluster-pack', ...r }) + '\n');
  process.stdout.write(`${r.out}: ${r.images} image(s) in data/train/faces (${o.copy ? 'copies' : 'links'}), run.sh (${r.model}, torchrun), flags.json${r.resume ? ', output/checkpoint-latest.pth' : ''}\n${r.notes.map((n) => `  note: ${n}\n`).join('')}  on the GPU box: CAMD_CODE=<checkout of the released code> NUM_GPUS=N sh run.sh; back here: camd import-run output\n`);
}
