/**
 * Label files of the downstream datasets (method.md §5), parsed into one shape:
 * a task (far: 40 binary attributes; fer: one class), class/attribute names, and items
 * (image path relative to the dataset root, labels, split). Malformed input is refused with an
 * error naming the file and the line.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep, extname } from 'node:path';
import { Rng } from '../util/rng.js';
import { IMAGE_EXTENSIONS } from '../data/image-io.js';

export type Task = 'far' | 'fer';
export type Split = 'train' | 'val' | 'test';
import { FORMATS, type LabelFormat } from '../protocol/formats.js';
import { CELEBA_ATTRIBUTES, FERPLUS_CLASSES, RAFDB_CLASSES } from '../protocol/label-names.js';
export { FORMATS, type LabelFormat };
export { CELEBA_ATTRIBUTES, FERPLUS_CLASSES, RAFDB_CLASSES };

export interface LabeledItem {
  /** Image path relative to the dataset root, '/'-separated. */
  path: string;
  /** far: one 0/1 per attribute; fer: [class index]. */
  labels: number[];
  split: Split;
  /** Where it was listed ("file:line"), to name both lines of a conflict. */
  source?: string;
}

export interface LabeledSet {
  task: Task;
  format: LabelFormat;
  /** Attribute names (far) or class names (fer), in label order. */
  names: string[];
  items: LabeledItem[];
  /** How the split was made, recorded with the run. */
  splitNote: string;
  /** Things the user should know that do not stop parsing (case-only class differences, empty class folders). */
  warnings?: string[];
}

export class LabelError extends Error {
  constructor(file: string, line: number | null, msg: string) {
    super(`${file}${line !== null ? `:${line}` : ''}: ${msg}`);
    this.name = 'LabelError';
  }
}

function readLines(file: string): string[] {
  if (!existsSync(file)) throw new LabelError(file, null, 'file not found');
  return readFileSync(file, 'utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/);
}

/** CelebA: Anno/list_attr_celeba.txt + Eval/list_eval_partition.txt, images in img_align_celeba/ (§5). */
export function parseCelebA(root: string): LabeledSet {
  const attrFile = join(root, 'Anno', 'list_attr_celeba.txt');
  const partFile = join(root, 'Eval', 'list_eval_partition.txt');
  const lines = readLines(attrFile);
  const count = Number(lines[0]?.trim());
  if (!Number.isInteger(count) || count < 0)
    throw new LabelError(attrFile, 1, `expected the image count, got '${lines[0]}'`);
  const names = (lines[1] ?? '').trim().split(/\s+/);
  if (names.length !== 40) throw new LabelError(attrFile, 2, `expected 40 attribute names, got ${names.length}`);
  const part = new Map<string, Split>();
  readLines(partFile).forEach((l, i) => {
    if (!l.trim()) return;
    const [name, p, ...rest] = l.trim().split(/\s+/);
    const split = p === '0' ? 'train' : p === '1' ? 'val' : p === '2' ? 'test' : null;
    if (!name || !split || rest.length)
      throw new LabelError(partFile, i + 1, `expected '<image> 0|1|2', got '${l.trim()}'`);
    part.set(name, split);
  });
  const items: LabeledItem[] = [];
  for (let i = 2; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (!l) continue;
    const tok = l.split(/\s+/);
    if (tok.length !== 41)
      throw new LabelError(attrFile, i + 1, `expected an image name and 40 values, got ${tok.length} fields`);
    const labels = tok.slice(1).map((v) => {
      if (v === '1') return 1;
      if (v === '-1') return 0; // targets −1 → 0 (§5)
      throw new LabelError(attrFile, i + 1, `attribute values must be 1 or -1, got '${v}'`);
    });
    const split = part.get(tok[0]!);
    if (!split) throw new LabelError(partFile, null, `no partition for ${tok[0]} (listed at ${attrFile}:${i + 1})`);
    items.push({ path: `img_align_celeba/${tok[0]}`, labels, split, source: `${attrFile}:${i + 1}` });
  }
  if (items.length !== count)
    throw new LabelError(attrFile, 1, `the header says ${count} images, the file lists ${items.length}`);
  return { task: 'far', format: 'celeba', names, items, splitNote: 'list_eval_partition.txt (0 train, 1 val, 2 test)' };
}

/** Indices into [imagenum, a1..a73] giving CelebA's 40 attributes from LFW's 73 (§5). */
export const LFWA_TO_CELEBA = [
  65, 36, 56, 60, 13, 30, 41, 39, 10, 11, 21, 12, 35, 20, 49, 15, 47, 59, 61, 69, 1, 43, 17, 37, 46, 51, 64, 40, 29, 62,
  31, 18, 28, 27, 71, 50, 67, 73, 72, 7,
] as const;

export type LfwaSplit = 'lfwa-release' | 'random';

/**
 * LFWA: lfw_attributes.txt (73 real-valued attributes, binarised at 0), mapped to CelebA's 40;
 * images lfw/<Name>/<Name>_<NNNN>.jpg. Splits: 'lfwa-release' (alternate lines, as released) or
 * 'random' (seeded, 80/10/10 train/val/test).
 */
export function parseLfwa(root: string, split: LfwaSplit = 'random', seed = 0): LabeledSet {
  const file = join(root, 'lfw_attributes.txt');
  const lines = readLines(file);
  const rows: { path: string; labels: number[]; source: string }[] = [];
  for (let i = 2; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (!l) continue;
    const tok = l.split(/\s+/);
    // leading tokens: the name (joined with '_'), then the image number, then 73 scores
    if (tok.length < 75)
      throw new LabelError(file, i + 1, `expected a name, an image number and 73 scores, got ${tok.length} fields`);
    const scores = tok.slice(-73).map(Number);
    const num = Number(tok[tok.length - 74]);
    const name = tok.slice(0, tok.length - 74).join('_');
    if (!Number.isInteger(num) || num < 1)
      throw new LabelError(file, i + 1, `bad image number '${tok[tok.length - 74]}'`);
    const bad = scores.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new LabelError(file, i + 1, `score ${bad + 1} is not a number ('${tok[tok.length - 73 + bad]}')`);
    const row = [num, ...scores];
    const labels = LFWA_TO_CELEBA.map((k) => (row[k]! >= 0 ? 1 : 0)); // binarise at 0
    // "Attractive" also when Attractive Woman ≥ 0 (§5): the release tests the already binarised score (LFWA.py:189-195)
    if (row[57]! >= 0) labels[2] = 1;
    rows.push({ path: `lfw/${name}/${name}_${String(num).padStart(4, '0')}.jpg`, labels, source: `${file}:${i + 1}` });
  }
  let items: LabeledItem[];
  let splitNote: string;
  if (split === 'lfwa-release') {
    items = rows.map((r, i) => ({ ...r, split: i % 2 === 0 ? 'train' : 'test' }));
    splitNote = 'lfwa-release: alternate lines (1st, 3rd, … train; 2nd, 4th, … test), as in the released code';
  } else {
    const order = new Rng(seed).fork('lfwa-split').shuffle([...rows.keys()]);
    const nVal = Math.round(rows.length * 0.1);
    const nTest = Math.round(rows.length * 0.1);
    const splitOf = new Map<number, Split>();
    order.forEach((r, k) => splitOf.set(r, k < nTest ? 'test' : k < nTest + nVal ? 'val' : 'train'));
    items = rows.map((r, i) => ({ ...r, split: splitOf.get(i)! }));
    splitNote = `random 80/10/10 train/val/test from seed ${seed}`;
  }
  return { task: 'far', format: 'lfwa', names: [...CELEBA_ATTRIBUTES], items, splitNote };
}

/** RAF-DB basic: EmoLabel/list_patition_label.txt (`train_00001.jpg 5`, labels 1–7), Image/aligned/<stem>_aligned.jpg. */
export function parseRafdb(root: string): LabeledSet {
  const file = join(root, 'EmoLabel', 'list_patition_label.txt');
  const items: LabeledItem[] = [];
  readLines(file).forEach((l, i) => {
    if (!l.trim()) return;
    const tok = l.trim().split(/\s+/);
    if (tok.length !== 2) throw new LabelError(file, i + 1, `expected '<image> <label>', got '${l.trim()}'`);
    const [name, lab] = tok as [string, string];
    const k = Number(lab);
    if (!Number.isInteger(k) || k < 1 || k > 7) throw new LabelError(file, i + 1, `label must be 1..7, got '${lab}'`);
    const split: Split | null = name.includes('train') ? 'train' : name.includes('test') ? 'test' : null;
    if (!split)
      throw new LabelError(file, i + 1, `cannot tell the split of '${name}' (expected 'train' or 'test' in the name)`);
    const stem = name.replace(/\.[^.]+$/, '');
    items.push({ path: `Image/aligned/${stem}_aligned.jpg`, labels: [k - 1], split, source: `${file}:${i + 1}` });
  });
  return {
    task: 'fer',
    format: 'rafdb',
    names: [...RAFDB_CLASSES],
    items,
    splitNote: "file names ('train_*' / 'test_*'); no validation split",
  };
}

/** FERPlus majority vote (§5): counts ≤ 1 zeroed; argmax if max > ½·sum, else unknown; keep classes < 8. Returns null to drop. */
export function ferplusVote(counts: number[]): number | null {
  const c = counts.map((v) => (v <= 1 ? 0 : v));
  const sum = c.reduce((a, b) => a + b, 0);
  if (sum === 0) return null;
  let arg = 0;
  for (let k = 1; k < c.length; k++) if (c[k]! > c[arg]!) arg = k;
  if (c[arg]! <= 0.5 * sum) return null; // "unknown"
  return arg < 8 ? arg : null; // unknown (8) and NF (9) are dropped
}

const FERPLUS_FOLDERS: [string, Split][] = [
  ['FER2013Train', 'train'],
  ['FER2013Valid', 'val'],
  ['FER2013Test', 'test'],
];

function parseVotes(file: string, lineNo: number, fields: string[]): number[] {
  if (fields.length !== 10) throw new LabelError(file, lineNo, `expected 10 vote counts, got ${fields.length}`);
  return fields.map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new LabelError(file, lineNo, `vote counts must be non-negative integers, got '${v}'`);
    return n;
  });
}

/** Splits one CSV line (double quotes, doubled quotes inside). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (q) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') q = false;
      else cur += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

/** FERPlus in the generator layout: Images/FER2013{Train,Valid,Test}/*.png + Labels/<same>/label.csv. */
export function parseFerplus(root: string): LabeledSet {
  const items: LabeledItem[] = [];
  for (const [folder, split] of FERPLUS_FOLDERS) {
    const file = join(root, 'Labels', folder, 'label.csv');
    if (!existsSync(file)) {
      if (split === 'val') continue;
      throw new LabelError(
        file,
        null,
        'file not found (expected the FERPlus generator layout, or fer2013.csv + fer2013new.csv)',
      );
    }
    readLines(file).forEach((l, i) => {
      if (!l.trim()) return;
      const f = csvFields(l);
      if (f.length !== 12)
        throw new LabelError(file, i + 1, `expected 'image,"(x, y, w, h)",10 counts', got ${f.length} fields`);
      const label = ferplusVote(parseVotes(file, i + 1, f.slice(2)));
      if (label !== null)
        items.push({ path: `Images/${folder}/${f[0]}`, labels: [label], split, source: `${file}:${i + 1}` });
    });
  }
  return {
    task: 'fer',
    format: 'ferplus',
    names: [...FERPLUS_CLASSES],
    items,
    splitNote: 'FER2013Train / FER2013Valid / FER2013Test (majority vote)',
  };
}

/** The raw FERPlus pair: fer2013.csv (emotion,pixels,Usage) + fer2013new.csv (Usage,Image name,10 counts), row by row. */
export function parseFerplusRaw(root: string): { set: LabeledSet; pixels: Map<string, Uint8Array> } {
  const oldFile = join(root, 'fer2013.csv');
  const newFile = join(root, 'fer2013new.csv');
  const old = readLines(oldFile);
  const neu = readLines(newFile);
  const head = csvFields(old[0] ?? '');
  const pixCol = head.indexOf('pixels');
  if (pixCol < 0) throw new LabelError(oldFile, 1, `expected a header with 'pixels', got '${old[0]}'`);
  const usageMap: Record<string, Split> = { Training: 'train', PublicTest: 'val', PrivateTest: 'test' };
  const items: LabeledItem[] = [];
  const pixels = new Map<string, Uint8Array>();
  const oldRows = old.slice(1).filter((l) => l.trim());
  const newRows = neu.slice(1).filter((l) => l.trim());
  if (oldRows.length !== newRows.length)
    throw new LabelError(
      newFile,
      null,
      `has ${newRows.length} rows, fer2013.csv has ${oldRows.length}; they must match row by row`,
    );
  oldRows.forEach((l, i) => {
    const f = csvFields(l);
    const nf = csvFields(newRows[i]!);
    if (nf.length !== 12)
      throw new LabelError(newFile, i + 2, `expected 'Usage,Image name,10 counts', got ${nf.length} fields`);
    const split = usageMap[nf[0]!];
    if (!split) throw new LabelError(newFile, i + 2, `unknown Usage '${nf[0]}'`);
    const label = ferplusVote(parseVotes(newFile, i + 2, nf.slice(2)));
    const px = (f[pixCol] ?? '').split(/\s+/).map(Number);
    if (px.length !== 48 * 48 || px.some((v) => !Number.isInteger(v) || v < 0 || v > 255))
      throw new LabelError(oldFile, i + 2, 'pixels must be 2304 integers 0..255 (48×48)');
    if (label === null || !nf[1]) return;
    const path = `${nf[0]}/${nf[1]}`;
    pixels.set(path, Uint8Array.from(px));
    items.push({ path, labels: [label], split });
  });
  return {
    set: {
      task: 'fer',
      format: 'ferplus',
      names: [...FERPLUS_CLASSES],
      items,
      splitNote: 'fer2013new.csv Usage (Training / PublicTest as val / PrivateTest as test), majority vote',
    },
    pixels,
  };
}

function listImages(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if ((IMAGE_EXTENSIONS as readonly string[]).includes(extname(e.name).toLowerCase())) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * One folder per class: either <root>/<class>/… (split made from the seed, 80/10/10), or
 * <root>/{train,val,test}/<class>/… (splits as given).
 */
export function parseFolders(root: string, seed = 0): LabeledSet {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new LabelError(root, null, 'folder not found');
  const rel = (p: string) => relative(root, p).split(sep).join('/');
  const top = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  const presplit =
    top.includes('train') && top.includes('test') && top.every((t) => ['train', 'val', 'test'].includes(t));
  const items: LabeledItem[] = [];
  let names: string[];
  const warnings: string[] = [];
  if (presplit) {
    const candidates = [
      ...new Set(
        top.flatMap((s) =>
          readdirSync(join(root, s), { withFileTypes: true })
            .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
            .map((e) => e.name),
        ),
      ),
    ].sort();
    const imagesOf = new Map(
      candidates.map((c) => [
        c,
        top.map((s) => [s, existsSync(join(root, s, c)) ? listImages(join(root, s, c)) : []] as const),
      ]),
    );
    names = candidates.filter((c) => imagesOf.get(c)!.some(([, l]) => l.length > 0));
    const empty = candidates.filter((c) => !names.includes(c));
    if (empty.length) warnings.push(`folder(s) without images, not classes: ${empty.join(', ')}`);
    for (const [k, c] of names.entries())
      for (const [s, list] of imagesOf.get(c)!)
        for (const p of list) items.push({ path: rel(p), labels: [k], split: s as Split });
  } else {
    const listed = top.map((c) => [c, listImages(join(root, c))] as const);
    names = listed.filter(([, l]) => l.length > 0).map(([c]) => c);
    const empty = listed.filter(([, l]) => l.length === 0).map(([c]) => `${c}/`);
    if (empty.length) warnings.push(`folder(s) without images, not classes: ${empty.join(', ')}`);
    const all: { path: string; k: number }[] = [];
    listed.filter(([, l]) => l.length > 0).forEach(([, l], k) => l.forEach((p) => all.push({ path: rel(p), k })));
    const order = new Rng(seed).fork('folder-split').shuffle([...all.keys()]);
    const nVal = Math.round(all.length * 0.1);
    const nTest = Math.round(all.length * 0.1);
    const splitOf = new Map<number, Split>();
    order.forEach((i, r) => splitOf.set(i, r < nTest ? 'test' : r < nTest + nVal ? 'val' : 'train'));
    all.forEach((a, i) => items.push({ path: a.path, labels: [a.k], split: splitOf.get(i)! }));
  }
  if (names.length < 2)
    throw new LabelError(
      root,
      null,
      `needs at least two class folders with images, found ${names.length}${warnings.length ? ` (${warnings.join('; ')})` : ''}`,
    );
  if (items.length === 0) throw new LabelError(root, null, 'no image in the class folders');
  return {
    task: 'fer',
    format: 'folders',
    names,
    items,
    splitNote: presplit ? 'train/val/test folders' : `random 80/10/10 from seed ${seed}`,
    warnings,
  };
}

/**
 * CSV with a header. `path,label[,split]` with class names → single-label (fer);
 * `path,<attr1>,<attr2>,…[,split]` with 0/1 or -1/1 values → multi-label (far).
 * Without a split column the split is made from the seed (80/10/10).
 */
export function parseCsv(file: string, seed = 0, root = join(file, '..')): LabeledSet {
  const lines = readLines(file);
  const warnings: string[] = [];
  const head = csvFields(lines[0] ?? '');
  if (head[0]?.toLowerCase() !== 'path' || head.length < 2)
    throw new LabelError(file, 1, "expected a header 'path,label[,label…][,split]'");
  const splitCol = head.findIndex((h) => h.toLowerCase() === 'split');
  const labelCols = head.map((_, i) => i).filter((i) => i !== 0 && i !== splitCol);
  const rows: { path: string; values: string[]; split: Split | null; line: number }[] = [];
  lines.slice(1).forEach((l, i) => {
    if (!l.trim()) return;
    const f = csvFields(l);
    if (f.length !== head.length) throw new LabelError(file, i + 2, `expected ${head.length} fields, got ${f.length}`);
    if (!f[0]) throw new LabelError(file, i + 2, 'empty path');
    if (labelCols.some((c) => f[c] === ''))
      throw new LabelError(
        file,
        i + 2,
        `empty ${labelCols.length > 1 ? `value for ${head[labelCols.find((c) => f[c] === '')!]}` : 'label'}`,
      );
    let split: Split | null = null;
    if (splitCol >= 0) {
      const s = f[splitCol]!.toLowerCase();
      if (s !== 'train' && s !== 'val' && s !== 'test')
        throw new LabelError(file, i + 2, `split must be train, val or test, got '${f[splitCol]}'`);
      split = s;
    }
    rows.push({
      path: relativeToRoot(f[0]!.replace(/\\/g, '/'), root, file, i + 2),
      values: labelCols.map((c) => f[c]!),
      split,
      line: i + 2,
    });
  });
  if (rows.length === 0) throw new LabelError(file, null, 'no rows');
  const multi = labelCols.length > 1;
  let names: string[];
  let toLabels: (r: (typeof rows)[number]) => number[];
  if (multi) {
    names = labelCols.map((c) => head[c]!);
    toLabels = (r) =>
      r.values.map((v, j) => {
        if (v === '1') return 1;
        if (v === '0' || v === '-1') return 0;
        throw new LabelError(file, r.line, `${names[j]} must be 0, 1 or -1, got '${v}'`);
      });
  } else {
    names = [...new Set(rows.map((r) => r.values[0]!))].sort();
    const byLower = new Map<string, string[]>();
    for (const n of names) byLower.set(n.toLowerCase(), [...(byLower.get(n.toLowerCase()) ?? []), n]);
    for (const same of byLower.values())
      if (same.length > 1)
        warnings.push(
          `classes differ only in case: ${same.map((n) => `'${n}'`).join(', ')} (kept apart; make them equal if they are one class)`,
        );
    if (names.length < 2) throw new LabelError(file, null, `needs at least two classes, found ${names.length}`);
    toLabels = (r) => [names.indexOf(r.values[0]!)];
  }
  let splits: Split[];
  if (splitCol >= 0) splits = rows.map((r) => r.split!);
  else {
    const order = new Rng(seed).fork('csv-split').shuffle([...rows.keys()]);
    const nVal = Math.round(rows.length * 0.1);
    const nTest = Math.round(rows.length * 0.1);
    splits = new Array<Split>(rows.length);
    order.forEach((i, r) => (splits[i] = r < nTest ? 'test' : r < nTest + nVal ? 'val' : 'train'));
  }
  return {
    task: multi ? 'far' : 'fer',
    format: 'csv',
    names,
    items: rows.map((r, i) => ({ path: r.path, labels: toLabels(r), split: splits[i]!, source: `${file}:${r.line}` })),
    splitNote: splitCol >= 0 ? 'split column' : `random 80/10/10 from seed ${seed}`,
    warnings,
  };
}

/**
 * A path of a label file as the dataset index names images: relative to the root, '/'-separated.
 * Absolute paths inside the root are made relative; paths that leave the root are refused.
 */
export function relativeToRoot(path: string, root: string, file: string, line: number): string {
  const abs = isAbsolute(path) ? path : resolve(root, path);
  const rel = relative(resolve(root), abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel))
    throw new LabelError(
      file,
      line,
      `'${path}' is outside the dataset root ${root}; image paths must be inside it (relative to it)`,
    );
  return rel.split(sep).join('/');
}

/**
 * One label per image: a repeated line with the same label and split is dropped; one with a
 * different label or split is refused, naming both lines.
 */
export function checkDuplicates(set: LabeledSet): LabeledSet {
  const seen = new Map<string, LabeledItem>();
  const items: LabeledItem[] = [];
  for (const it of set.items) {
    const prev = seen.get(it.path);
    if (!prev) {
      seen.set(it.path, it);
      items.push(it);
      continue;
    }
    if (prev.split !== it.split || prev.labels.join(',') !== it.labels.join(',')) {
      const what =
        prev.split !== it.split
          ? `split ${prev.split} vs ${it.split}`
          : set.task === 'fer'
            ? `class ${set.names[prev.labels[0]!]} vs ${set.names[it.labels[0]!]}`
            : `attributes ${set.names
                .filter((_, k) => prev.labels[k] !== it.labels[k])
                .slice(0, 3)
                .join(', ')} differ`;
      throw new LabelError(
        it.source ?? set.format,
        null,
        `${it.path} is listed twice with different labels (${what}): ${prev.source ?? '?'} and ${it.source ?? '?'}`,
      );
    }
  }
  const repeated = set.items.length - items.length;
  return repeated
    ? { ...set, items, warnings: [...(set.warnings ?? []), `${repeated} repeated line(s) with the same label ignored`] }
    : set;
}

/** Few-shot subset of the training split (§5, "Our decisions"): ⌊r·N⌋ items drawn from the seed, identical everywhere. */
export function fewShot(set: LabeledSet, ratio: number, seed: number): LabeledSet {
  if (!(ratio > 0 && ratio <= 1)) throw new Error(`--few-shot must be in (0, 1], got ${ratio}`);
  const train = set.items.map((it, i) => ({ it, i })).filter((x) => x.it.split === 'train');
  const k = Math.max(1, Math.floor(ratio * train.length));
  const keep = new Set(
    new Rng(seed)
      .fork('few-shot')
      .shuffle(train.map((x) => x.i))
      .slice(0, k),
  );
  return { ...set, items: set.items.filter((it, i) => it.split !== 'train' || keep.has(i)) };
}
