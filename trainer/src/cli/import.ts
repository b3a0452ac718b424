/** `camd import FILE --out FILE`: a PyTorch ViT encoder as our encoder file (interop/vit-import.ts). */
import { resolve } from 'node:path';
import { importVit } from '../interop/vit-import.js';
import { PRESET_NAMES, type PresetName } from '../model/config.js';
import { CamdError } from '../util/errors.js';

export interface ImportCliOptions {
  out?: string;
  teacher?: boolean;
  preset?: string;
  head?: string;
  db?: string;
  json?: boolean;
}

/** `--head rafdb|ferplus|celeba|lfwa|fer:A,B,…|far:A,B,…`: the task and classes a classifier's head was trained on. */
async function headOf(v: string): Promise<{ task: 'fer' | 'far'; names: string[] }> {
  const { CELEBA_ATTRIBUTES, FERPLUS_CLASSES, RAFDB_CLASSES } = await import('../protocol/label-names.js');
  const known: Record<string, { task: 'fer' | 'far'; names: readonly string[] }> = {
    rafdb: { task: 'fer', names: RAFDB_CLASSES },
    ferplus: { task: 'fer', names: FERPLUS_CLASSES },
    celeba: { task: 'far', names: CELEBA_ATTRIBUTES },
    lfwa: { task: 'far', names: CELEBA_ATTRIBUTES },
  };
  const k = known[v];
  if (k) return { task: k.task, names: [...k.names] };
  const m = /^(fer|far):(.+)$/.exec(v);
  const names = m ? m[2]!.split(',').map((x) => x.trim()) : [];
  if (!m || names.some((x) => !x) || new Set(names).size !== names.length)
    throw new CamdError(
      'usage',
      `--head must be rafdb, ferplus, celeba, lfwa, or fer:Name,Name,… / far:Name,Name,… (distinct names), got '${v}'`,
    );
  return { task: m[1] as 'fer' | 'far', names };
}

export async function importCommand(file: string, o: ImportCliOptions): Promise<void> {
  if (!o.out)
    throw new CamdError('usage', 'camd import needs --out FILE (the encoder file to write, e.g. encoder.safetensors)');
  if (o.preset !== undefined && !(PRESET_NAMES as readonly string[]).includes(o.preset))
    throw new CamdError('usage', `--preset must be one of ${PRESET_NAMES.join(', ')}, got '${o.preset}'`);
  if (o.head !== undefined && o.teacher)
    throw new CamdError('usage', '--head reads a fine-tuned classifier; --teacher a pre-training checkpoint: not both');
  const head = o.head !== undefined ? await headOf(o.head) : undefined;
  const r = await importVit(resolve(file), resolve(o.out), {
    ...(o.teacher ? { teacher: true } : {}),
    ...(o.preset ? { preset: o.preset as PresetName } : {}),
    ...(head ? { head } : {}),
  });
  // a classifier becomes a fine-tuning run of the store: camd predict and the app's labelling use it
  let runId: string | null = null;
  let db: string | null = null;
  if (r.head) {
    const { Store } = await import('../store/store.js');
    const { defaultDbPath } = await import('../util/paths.js');
    const { recordImportedClassifier } = await import('../interop/vit-import.js');
    const store = new Store(o.db ? resolve(o.db) : defaultDbPath());
    try {
      runId = recordImportedClassifier(store, r);
      db = store.file;
    } finally {
      store.close();
    }
  }
  if (o.json) return void process.stdout.write(`${JSON.stringify({ type: 'import', ...r, run_id: runId, db })}\n`);
  const m = r.model;
  process.stdout.write(
    `${r.source}: ${r.head ? `a ${r.head.task} classifier (${r.head.names.length} ${r.head.task === 'far' ? 'attributes' : 'classes'}) on the` : `the ${r.which}`} ViT encoder, ${m.embedDim} wide, ${m.depth} deep, ${m.numHeads} heads (preset ${r.preset}), ${m.patchSize}-px patches at ${m.imgSize} px; ${r.tensors} tensors\n` +
      (r.ignored.length
        ? `  not part of the encoder, left out: ${r.ignored.slice(0, 8).join(', ')}${r.ignored.length > 8 ? `, … (${r.ignored.length} in all)` : ''}\n`
        : '') +
      `  written: ${r.out} (${r.head ? 'camd predict --checkpoint and the labelling view read it; camd finetune --init fine-tunes it further' : 'camd finetune --init, camd probe --checkpoint, camd see --data read it'})\n` +
      (runId
        ? `  recorded as the fine-tuned run ${runId} of ${db} (its predictions: the app's labelling view, or camd predict)\n`
        : ''),
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
    if (o.json) return void process.stdout.write(`${JSON.stringify({ type: 'import-run', ...r, db: store.file })}\n`);
    process.stdout.write(
      `${r.updated ? 'updated' : 'imported'}: a ${r.kind} run of ${r.epochs} epoch(s) from ${resolve(dir)} (run ${r.runId})\n` +
        `  metrics by epoch: ${r.metrics.join(', ')}\n` +
        `  settings: ${r.argsFrom ? `the args of ${r.argsFrom.split('/').pop()}` : 'none found (no readable checkpoint-*.pth with args)'}\n` +
        `  checkpoints: ${r.checkpoints.length ? r.checkpoints.map((c) => c.split('/').pop()).join(', ') : 'none'} (camd import FILE reads their encoder)\n` +
        `  store: ${store.file}\n` +
        r.notes.map((n) => `  note: ${n}\n`).join(''),
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
  json?: boolean;
}

/** `camd cluster-pack RUN_DIR --out DIR` (interop/cluster-pack.ts). */
export async function clusterPackCommand(runDir: string, o: ClusterPackCliOptions): Promise<void> {
  if (!o.out) throw new CamdError('usage', 'camd cluster-pack needs --out DIR');
  if (o.preset !== undefined && !(PRESET_NAMES as readonly string[]).includes(o.preset))
    throw new CamdError('usage', `--preset must be one of ${PRESET_NAMES.join(', ')}, got '${o.preset}'`);
  const { clusterPack } = await import('../interop/cluster-pack.js');
  const { parseNumber } = await import('./parse.js');
  const gpus = parseNumber('--gpus', o.gpus, 'int');
  const r = await clusterPack(resolve(runDir), resolve(o.out), {
    ...(gpus !== undefined ? { gpus } : {}),
    ...(o.preset ? { preset: o.preset as PresetName } : {}),
    ...(o.copy ? { copy: true } : {}),
  });
  if (o.json) return void process.stdout.write(`${JSON.stringify({ type: 'cluster-pack', ...r })}\n`);
  process.stdout.write(
    `${r.out}: ${r.images} image(s) in data/train/faces (${o.copy ? 'copies' : 'links'}), run.sh (${r.model}, torchrun), camd_launch.py, flags.json${r.resume ? `, ${r.resume.file.slice(r.out.length + 1)}` : ''}\n${r.notes.map((n) => `  note: ${n}\n`).join('')}  on the GPU box: CAMD_CODE=<checkout of the released code> NUM_GPUS=N sh run.sh; back here: camd import-run output\n`,
  );
}
