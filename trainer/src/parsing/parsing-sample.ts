/**
 * What a face-parsing dataset reader returns: each sample's image and where its labels are (one
 * label map, or CelebAMask-HQ's per-part masks), its split when the dataset has one, and the
 * samples not read with the reason. `readSampleLabels` turns a sample's label files into one
 * label map, checking every index against the scheme's class count.
 */
import { CamdError } from '../util/errors.js';
import { type LabelMap, readLabelPng } from './label-png.js';
import { CLASS_MAPS, type ParsingScheme } from './parsing-classes.js';

export type SampleLabels =
  | { kind: 'map'; file: string }
  /** Part masks, merged in this order (a later part overwrites an earlier one where both are set). */
  | { kind: 'parts'; parts: { cls: number; file: string }[] };

export interface ParsingSample {
  /** Absolute path of the image. */
  image: string;
  labels: SampleLabels;
  /** The dataset's own split, when it has one. */
  split: 'train' | 'test' | null;
}

export interface ParsingDataset {
  scheme: ParsingScheme;
  samples: ParsingSample[];
  skipped: { path: string; reason: string }[];
  /** How the split was made: the dataset's own ('LaPa train/ and test/'), or null for a seeded one. */
  split: string | null;
}

/** The sample's label map: the map file's indices, or the part masks merged (nonzero → the part's class). */
export async function readSampleLabels(s: ParsingSample, scheme: ParsingScheme): Promise<LabelMap> {
  const classes = CLASS_MAPS[scheme].names.length;
  if (s.labels.kind === 'map') {
    const m = await readLabelPng(s.labels.file);
    for (let i = 0; i < m.data.length; i++)
      if (m.data[i]! >= classes)
        throw new CamdError(
          'input',
          `${s.labels.file}: pixel ${i % m.width},${Math.floor(i / m.width)} has class ${m.data[i]}; ${scheme} has ${classes} classes (0–${classes - 1})`,
        );
    return m;
  }
  let out: LabelMap | null = null;
  for (const { cls, file } of s.labels.parts) {
    const part = await readLabelPng(file);
    if (!out) out = { width: part.width, height: part.height, data: new Uint8Array(part.width * part.height) };
    else if (part.width !== out.width || part.height !== out.height)
      throw new CamdError(
        'input',
        `${file}: ${part.width}×${part.height}, but the sample's other part masks are ${out.width}×${out.height}`,
      );
    for (let i = 0; i < part.data.length; i++) if (part.data[i] !== 0) out.data[i] = cls;
  }
  if (!out) throw new CamdError('input', `${s.image}: no part mask`);
  return out;
}
