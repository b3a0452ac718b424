/** Where a run came from when not from this app's own settings: a cluster (torchrun), a PyTorch file, a checkpoint it started from. */
import type { RunDetail } from '../../electron/common/contract.js';

export type Provenance =
  | { kind: 'torchrun'; folder: string; settings: string; checkpoints: string[] }
  | { kind: 'pytorch'; file: string; what: string }
  | { kind: 'start'; file: string; what: string };

const str = (v: unknown) => (typeof v === 'string' ? v : null);

/** A run brought in from a GPU cluster: its folder, its settings in a line (from the released script's args), its checkpoints. */
function fromCluster(c: Record<string, unknown>, outDir: string | null): Provenance {
  const a = (c['args'] ?? {}) as Record<string, unknown>;
  const batch =
    typeof a['batch_size'] === 'number'
      ? `${a['batch_size']} a GPU${typeof a['world_size'] === 'number' ? ` × ${a['world_size']} GPUs` : ''}`
      : null;
  const settings = [
    str(a['model']),
    a['input_size'] ? `${String(a['input_size'])} px` : null,
    batch ? `batch ${batch}` : null,
    a['epochs'] ? `${String(a['epochs'])} epochs` : null,
    a['blr'] ? `blr ${String(a['blr'])}` : null,
    a['warmup_epochs'] !== undefined ? `warm-up ${String(a['warmup_epochs'])}` : null,
  ]
    .filter(Boolean)
    .join(' · ');
  const cks = Array.isArray(c['checkpoints'])
    ? (c['checkpoints'] as unknown[]).filter((x): x is string => typeof x === 'string')
    : [];
  const log = str(c['log']);
  return {
    kind: 'torchrun' as const,
    folder: log ? log.replace(/[\\/]log\.txt$/, '') : (outDir ?? ''),
    settings,
    checkpoints: cks,
  };
}

/** A classifier imported from a PyTorch file: its task and its names. */
function fromPytorch(c: Record<string, unknown>): Provenance {
  const names = Array.isArray(c['names']) ? (c['names'] as string[]) : [];
  return {
    kind: 'pytorch' as const,
    file: str(c['file']) ?? '',
    what: `a ${c['task'] === 'far' ? 'facial-attribute' : 'expression'} classifier, ${names.length} ${c['task'] === 'far' ? 'attributes' : 'classes'}: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}`,
  };
}

/** A run that started from a checkpoint: carried on (--continue) or from its weights (--init). */
function fromCheckpoint(c: Record<string, unknown>): Provenance | null {
  const st = c['start'] as
    | { mode?: string; file?: string; format?: string; epochs_done?: number; step?: number; optimizer?: boolean }
    | undefined;
  if (!st?.file) return null;
  return {
    kind: 'start' as const,
    file: st.file,
    what:
      st.mode === 'continue'
        ? `carried on from ${st.format === 'released' ? 'a checkpoint of the released code' : 'a camd checkpoint'}: ${st.epochs_done ?? 0} epoch(s) done there, continued at step ${(st.step ?? 0) + 1}${st.optimizer ? ' with its AdamW state' : ' with a fresh AdamW'}`
        : 'started from its weights (a fresh AdamW, step 1)',
  };
}

/** Where the run came from, from its store record; null: from this app's own settings. */
export function provenanceOf(detail: RunDetail | null): Provenance | null {
  const c = detail?.config ?? {};
  if (c['source'] === 'torchrun') return fromCluster(c, detail?.out_dir ?? null);
  if (c['source'] === 'pytorch') return fromPytorch(c);
  return fromCheckpoint(c);
}
