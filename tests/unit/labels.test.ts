// Every label format of method.md §5, in its exact layout, including malformed lines.
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CELEBA_ATTRIBUTES,
  csvFields,
  fewShot,
  ferplusVote,
  parseCelebA,
  parseCsv,
  parseFerplus,
  parseFerplusRaw,
  parseFolders,
  parseLfwa,
  parseRafdb,
  type LabeledItem,
} from '../../trainer/src/labels/label-files.js';
import { tempDir } from '../support/folders.js';

/** Items without their source line (checked on its own). */
const plain = (items: LabeledItem[]) => items.map(({ source: _source, ...rest }) => rest);

function write(root: string, rel: string, text: string): string {
  const p = join(root, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

function celeba(rows: [string, number[]][], parts: [string, number][]): string {
  const root = tempDir('celeba');
  write(
    root,
    'Anno/list_attr_celeba.txt',
    `${rows.length}\n${CELEBA_ATTRIBUTES.join(' ')}\n${rows.map(([n, v]) => `${n} ${v.map((x) => (x ? ' 1' : '-1')).join(' ')}`).join('\n')}\n`,
  );
  write(root, 'Eval/list_eval_partition.txt', `${parts.map(([n, p]) => `${n} ${p}`).join('\n')}\n`);
  return root;
}

describe('CelebA', () => {
  const v1 = Array.from({ length: 40 }, (_, i) => i % 2);
  const v2 = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  it('parses attributes (−1 → 0) and partitions 0/1/2', () => {
    const s = parseCelebA(
      celeba(
        [
          ['000001.jpg', v1],
          ['000002.jpg', v2],
          ['000003.jpg', v1],
        ],
        [
          ['000001.jpg', 0],
          ['000002.jpg', 1],
          ['000003.jpg', 2],
        ],
      ),
    );
    expect(s.task).toBe('far');
    expect(s.names).toEqual([...CELEBA_ATTRIBUTES]);
    expect(s.items.map((i) => [i.path, i.split])).toEqual([
      ['img_align_celeba/000001.jpg', 'train'],
      ['img_align_celeba/000002.jpg', 'val'],
      ['img_align_celeba/000003.jpg', 'test'],
    ]);
    expect(s.items[1]!.labels).toEqual(v2);
  });
  it('names file and line of malformed input', () => {
    const root = celeba([['000001.jpg', v1]], [['000001.jpg', 0]]);
    write(
      root,
      'Anno/list_attr_celeba.txt',
      `1\n${CELEBA_ATTRIBUTES.join(' ')}\n000001.jpg ${v1.map(() => '1').join(' ')} 1\n`,
    );
    expect(() => parseCelebA(root)).toThrow(
      /list_attr_celeba\.txt:3: expected an image name and 40 values, got 42 fields/,
    );
    write(
      root,
      'Anno/list_attr_celeba.txt',
      `1\n${CELEBA_ATTRIBUTES.join(' ')}\n000001.jpg ${v1.map(() => '2').join(' ')}\n`,
    );
    expect(() => parseCelebA(root)).toThrow(/:3: attribute values must be 1 or -1, got '2'/);
    write(
      root,
      'Anno/list_attr_celeba.txt',
      `2\n${CELEBA_ATTRIBUTES.join(' ')}\n000001.jpg ${v1.map(() => '1').join(' ')}\n`,
    );
    expect(() => parseCelebA(root)).toThrow(/:1: the header says 2 images, the file lists 1/);
    write(
      root,
      'Anno/list_attr_celeba.txt',
      `1\n${CELEBA_ATTRIBUTES.join(' ')}\n000001.jpg ${v1.map(() => '1').join(' ')}\n`,
    );
    write(root, 'Eval/list_eval_partition.txt', '000001.jpg 5\n');
    expect(() => parseCelebA(root)).toThrow(
      /list_eval_partition\.txt:1: expected '<image> 0\|1\|2', got '000001\.jpg 5'/,
    );
    expect(() => parseCelebA(tempDir('nothing'))).toThrow(/list_attr_celeba\.txt: file not found/);
  });
});

describe('LFWA', () => {
  function lfw(n: number): string {
    const root = tempDir('lfwa');
    const lines = [
      '# 2 header lines',
      `#\tperson\timagenum\t${Array.from({ length: 73 }, (_, i) => `a${i + 1}`).join('\t')}`,
    ];
    for (let r = 0; r < n; r++) {
      const scores = Array.from({ length: 73 }, (_, k) => ((k + r) % 3) - 1 + 0.25);
      lines.push(
        `Aaron Eckhart ${r + 1}\t${scores.join('\t')}`.replace(' ', '\t').replace(`Aaron\tEckhart`, 'Aaron Eckhart'),
      );
    }
    write(root, 'lfw_attributes.txt', `${lines.join('\n')}\n`);
    return root;
  }
  it('joins the name, pads the image number, maps 73 → 40 by the §5 index list, binarises at 0', () => {
    const s = parseLfwa(lfw(6), 'lfwa-release');
    expect(s.items[0]!.path).toBe('lfw/Aaron_Eckhart/Aaron_Eckhart_0001.jpg');
    // column a_m of the first row scores (m − 1) mod 3 − 0.75: positive unless m ≡ 1 (mod 3). The CelebA
    // attributes read, in order, these LFW columns (method.md §5's list, typed here, not the code's constant;
    // tests/unit/reference-values.test.ts checks the same mapping by attribute name):
    const columns = [
      65, 36, 56, 60, 13, 30, 41, 39, 10, 11, 21, 12, 35, 20, 49, 15, 47, 59, 61, 69, 1, 43, 17, 37, 46, 51, 64, 40, 29,
      62, 31, 18, 28, 27, 71, 50, 67, 73, 72, 7,
    ];
    const expected = columns.map((m) => (m % 3 === 1 ? 0 : 1));
    expected[2] = 1; // Attractive: also Attractive Woman (a57, positive here)
    expect(s.items[0]!.labels).toEqual(expected);
    expect(s.items.map((i) => i.split)).toEqual(['train', 'test', 'train', 'test', 'train', 'test']);
  });
  it('random split is seeded and covers train/val/test', () => {
    const a = parseLfwa(lfw(40), 'random', 1);
    const b = parseLfwa(lfw(40), 'random', 1);
    expect(a.items.map((i) => i.split)).toEqual(b.items.map((i) => i.split));
    expect(a.items.filter((i) => i.split === 'test')).toHaveLength(4);
    expect(a.items.filter((i) => i.split === 'val')).toHaveLength(4);
  });
  it('refuses a short or non-numeric line', () => {
    const root = lfw(1);
    write(root, 'lfw_attributes.txt', '#\n#\nAaron Eckhart\t1\t0.5\n');
    expect(() => parseLfwa(root)).toThrow(/lfw_attributes\.txt:3: expected a name, an image number and 73 scores/);
    write(root, 'lfw_attributes.txt', `#\n#\nAaron\t1\t${Array(72).fill('0.5').join('\t')}\tx\n`);
    expect(() => parseLfwa(root)).toThrow(/:3: score 73 is not a number \('x'\)/);
  });
});

describe('RAF-DB', () => {
  it('labels 1–7 → 0–6, split by name, aligned image path', () => {
    const root = tempDir('raf');
    write(root, 'EmoLabel/list_patition_label.txt', 'train_00001.jpg 5\ntest_0001.jpg 1\n');
    const s = parseRafdb(root);
    expect(plain(s.items)).toEqual([
      { path: 'Image/aligned/train_00001_aligned.jpg', labels: [4], split: 'train' },
      { path: 'Image/aligned/test_0001_aligned.jpg', labels: [0], split: 'test' },
    ]);
    write(root, 'EmoLabel/list_patition_label.txt', 'train_00001.jpg 5\ntrain_00002.jpg 8\n');
    expect(() => parseRafdb(root)).toThrow(/list_patition_label\.txt:2: label must be 1\.\.7, got '8'/);
    write(root, 'EmoLabel/list_patition_label.txt', 'photo_1.jpg 3\n');
    expect(() => parseRafdb(root)).toThrow(/:1: cannot tell the split/);
  });
});

describe('FERPlus', () => {
  it('majority vote as in §5', () => {
    expect(ferplusVote([10, 0, 0, 0, 0, 0, 0, 0, 0, 0])).toBe(0);
    expect(ferplusVote([4, 5, 1, 0, 0, 0, 0, 0, 0, 0])).toBe(1); // 1 is zeroed: 5 > 4.5
    expect(ferplusVote([5, 5, 0, 0, 0, 0, 0, 0, 0, 0])).toBeNull(); // tie: not > half
    expect(ferplusVote([0, 0, 0, 0, 0, 0, 0, 0, 10, 0])).toBeNull(); // unknown
    expect(ferplusVote([0, 0, 0, 0, 0, 0, 0, 0, 0, 10])).toBeNull(); // NF
  });
  it('generator layout: Images/FER2013*/ + Labels/*/label.csv', () => {
    const root = tempDir('ferplus');
    write(
      root,
      'Labels/FER2013Train/label.csv',
      'fer0000000.png,"(0, 0, 48, 48)",4,0,0,1,3,0,0,0,0,2\nfer0000001.png,"(0, 0, 48, 48)",0,10,0,0,0,0,0,0,0,0\n',
    );
    write(root, 'Labels/FER2013Test/label.csv', 'fer0032220.png,"(0, 0, 48, 48)",0,0,0,0,0,0,9,1,0,0\n');
    const s = parseFerplus(root);
    expect(plain(s.items)).toEqual([
      { path: 'Images/FER2013Train/fer0000001.png', labels: [1], split: 'train' },
      { path: 'Images/FER2013Test/fer0032220.png', labels: [6], split: 'test' },
    ]);
    write(root, 'Labels/FER2013Test/label.csv', 'fer0032220.png,"(0, 0, 48, 48)",0,0,0,0,0,0,9,1,0\n');
    expect(() => parseFerplus(root)).toThrow(
      /FER2013Test\/label\.csv:1: expected 'image,"\(x, y, w, h\)",10 counts', got 11 fields/,
    );
  });
  it('raw pair fer2013.csv + fer2013new.csv', () => {
    const root = tempDir('ferraw');
    const px = Array.from({ length: 2304 }, (_, i) => i % 256).join(' ');
    write(root, 'fer2013.csv', `emotion,pixels,Usage\n0,${px},Training\n3,${px},PrivateTest\n`);
    write(
      root,
      'fer2013new.csv',
      'Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\nTraining,fer0000000.png,0,9,0,0,0,0,0,0,1,0\nPrivateTest,fer0032220.png,0,0,0,8,2,0,0,0,0,0\n',
    );
    const { set, pixels } = parseFerplusRaw(root);
    expect(set.items.map((i) => [i.path, i.labels[0], i.split])).toEqual([
      ['Training/fer0000000.png', 1, 'train'],
      ['PrivateTest/fer0032220.png', 3, 'test'],
    ]);
    expect(pixels.get('Training/fer0000000.png')!.length).toBe(2304);
    write(root, 'fer2013.csv', `emotion,pixels,Usage\n0,1 2 3,Training\n3,${px},PrivateTest\n`);
    expect(() => parseFerplusRaw(root)).toThrow(/fer2013\.csv:2: pixels must be 2304 integers/);
  });
});

describe('generic formats', () => {
  it('one folder per class, with or without train/val/test', () => {
    const root = tempDir('folders');
    for (const c of ['happy', 'sad']) for (let i = 0; i < 10; i++) write(root, `${c}/${i}.jpg`, 'x');
    const s = parseFolders(root, 3);
    expect(s.names).toEqual(['happy', 'sad']);
    expect(s.items).toHaveLength(20);
    expect(s.items.filter((i) => i.split === 'test')).toHaveLength(2);
    const pre = tempDir('presplit');
    for (const sp of ['train', 'test']) for (const c of ['a', 'b']) write(pre, `${sp}/${c}/1.png`, 'x');
    const p = parseFolders(pre);
    expect(p.items.map((i) => [i.path, i.labels[0], i.split]).sort()).toEqual([
      ['test/a/1.png', 0, 'test'],
      ['test/b/1.png', 1, 'test'],
      ['train/a/1.png', 0, 'train'],
      ['train/b/1.png', 1, 'train'],
    ]);
    expect(() => parseFolders(tempDir('none'))).toThrow(/needs at least two class folders/);
  });
  it('CSV: single-label classes, multi-label 0/1/−1, split column, errors with line numbers', () => {
    const dir = tempDir('csv');
    const single = write(
      dir,
      'single.csv',
      'path,label,split\na.jpg,happy,train\nb.jpg,sad,test\n"c, d.jpg",happy,val\n',
    );
    const s = parseCsv(single);
    expect(s.task).toBe('fer');
    expect(s.names).toEqual(['happy', 'sad']);
    expect(plain([s.items[2]!])[0]).toEqual({ path: 'c, d.jpg', labels: [0], split: 'val' });
    expect(s.items[2]!.source).toMatch(/single\.csv:4$/);
    const multi = write(dir, 'multi.csv', 'path,Smiling,Male\na.jpg,1,-1\nb.jpg,0,1\n');
    const m = parseCsv(multi);
    expect(m.task).toBe('far');
    expect(m.items.map((i) => i.labels)).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(() => parseCsv(write(dir, 'bad.csv', 'path,Smiling,Male\na.jpg,1,2\n'))).toThrow(
      /bad\.csv:2: Male must be 0, 1 or -1, got '2'/,
    );
    expect(() => parseCsv(write(dir, 'bad2.csv', 'path,label\na.jpg\n'))).toThrow(
      /bad2\.csv:2: expected 2 fields, got 1/,
    );
    expect(() => parseCsv(write(dir, 'bad3.csv', 'file,label\n'))).toThrow(
      /bad3\.csv:1: expected a header 'path,label/,
    );
    expect(csvFields('a,"b ""q"", c",d')).toEqual(['a', 'b "q", c', 'd']);
  });
  it('few-shot draws ⌊r·N⌋ training items from the seed, the same every time, and keeps val/test', () => {
    const root = tempDir('few');
    for (const c of ['a', 'b']) for (let i = 0; i < 50; i++) write(root, `${c}/${i}.jpg`, 'x');
    const s = parseFolders(root);
    const nTrain = s.items.filter((i) => i.split === 'train').length;
    const f1 = fewShot(s, 0.1, 7);
    const f2 = fewShot(s, 0.1, 7);
    expect(f1.items).toEqual(f2.items);
    expect(f1.items.filter((i) => i.split === 'train')).toHaveLength(Math.floor(0.1 * nTrain));
    expect(f1.items.filter((i) => i.split !== 'train')).toHaveLength(s.items.length - nTrain);
    expect(fewShot(s, 0.1, 8).items).not.toEqual(f1.items);
  });
});
