// The parsing brush's pure parts: which pixels a stroke paints (a disc: the pixels whose centres lie
// within the radius; a drag: the capsule round the segment), a stroke undone and redone as one step,
// the legend's shares of the face, and label maps as 8-bit greyscale PNGs written and read in the
// renderer — the values the trainer's reader (sharp) and the renderer's read being the same.
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import {
  type Changed,
  classCounts,
  decodeGreyPng,
  encodeGreyPng,
  faceShares,
  type LabelMap,
  paintDisc,
  paintSegment,
} from '../../renderer/src/label-map.js';
import { useStrokeHistory } from '../../renderer/src/composables/useStrokeHistory.js';
import { parsingColours, rgbOf } from '../../renderer/src/parsing-palette.js';
import { labelMapOfPng } from '../../trainer/src/parsing/label-png.js';

const blank = (w: number, h: number, v = 0): LabelMap => ({ width: w, height: h, data: new Uint8Array(w * h).fill(v) });
const painted = (m: LabelMap, cls: number) =>
  [...m.data.keys()].filter((i) => m.data[i] === cls).map((i) => [i % m.width, Math.floor(i / m.width)]);

describe('the brush’s rasteriser', () => {
  it('a disc paints exactly the pixels whose centres are within the radius, clipped to the map', () => {
    const m = blank(10, 8);
    const changed: Changed = new Map();
    paintDisc(m, 5, 4, 1.6, 3, changed);
    // centres (x + ½, y + ½) within 1.6 of (5, 4): the 2×2 core and its four neighbours on each side
    expect(painted(m, 3)).toEqual([
      [4, 2],
      [5, 2],
      [3, 3],
      [4, 3],
      [5, 3],
      [6, 3],
      [3, 4],
      [4, 4],
      [5, 4],
      [6, 4],
      [4, 5],
      [5, 5],
    ]);
    expect(changed.size).toBe(12);
    expect([...changed.values()].every((v) => v === 0)).toBe(true);
    // at the corner: only what is on the map
    const c = blank(4, 4);
    expect(paintDisc(c, 0, 0, 2, 1)).toEqual({ x0: 0, y0: 0, x1: 2, y1: 2 });
    expect(painted(c, 1)).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
    ]);
  });

  it('a drag paints the capsule round its segment, and keeps each pixel’s first class for undo', () => {
    const m = blank(12, 6, 1);
    m.data[2 * 12 + 5] = 7;
    const changed: Changed = new Map();
    paintSegment(m, [2, 3], [10, 3], 1, 4, changed);
    paintSegment(m, [10, 3], [10, 3], 1, 4, changed); // over itself: no new change
    // rows 2 and 3 (centres 2.5 and 3.5 within 1 of y = 3) from x = 1 to 10; the ends' round caps
    const rows = [2, 3].flatMap((y) => Array.from({ length: 10 }, (_, k) => [1 + k, y]));
    expect(painted(m, 4)).toEqual(rows);
    expect(changed.size).toBe(20);
    expect(changed.get(2 * 12 + 5)).toBe(7);
  });

  it('one stroke is one undo step; redo puts it back; a new stroke clears redo', () => {
    const m = blank(8, 8);
    const h = useStrokeHistory();
    const s1: Changed = new Map();
    paintSegment(m, [1, 1], [6, 1], 1, 2, s1);
    h.record(m, s1);
    const s2: Changed = new Map();
    paintDisc(m, 4, 5, 2, 5, s2);
    h.record(m, s2);
    const after = m.data.slice();
    expect(h.undo(m)).toEqual({ x0: 2, y0: 3, x1: 5, y1: 6 });
    expect(painted(m, 5)).toEqual([]);
    expect(painted(m, 2).length).toBe(s1.size);
    h.undo(m);
    expect(m.data.every((v) => v === 0)).toBe(true);
    expect(h.undo(m)).toBeNull();
    h.redo(m);
    h.redo(m);
    expect(m.data).toEqual(after);
    h.undo(m);
    const s3: Changed = new Map();
    paintDisc(m, 1, 6, 1, 9, s3);
    h.record(m, s3);
    expect(h.canRedo.value).toBe(false);
    expect(h.strokes.value).toBe(2);
  });

  it('the legend’s share is of the face: a class’s pixels over all but background’s', () => {
    const m = blank(10, 10);
    m.data.fill(1, 0, 30);
    m.data.fill(6, 30, 40);
    const counts = classCounts(m, 11);
    expect(counts.slice(0, 7)).toEqual([60, 30, 0, 0, 0, 0, 10]);
    const s = faceShares(counts);
    expect(s[0]).toBeNull();
    expect(s[1]).toBeCloseTo(0.75, 12);
    expect(s[6]).toBeCloseTo(0.25, 12);
  });

  it('each scheme has one distinct colour a class', () => {
    for (const [scheme, n] of [
      ['lapa-11', 11],
      ['celebamask-19', 19],
    ] as const) {
      const c = parsingColours(scheme, n).map((x) => rgbOf(x).join());
      expect(new Set(c).size).toBe(n);
    }
    expect(rgbOf(parsingColours('other', 3)[1]!)).toEqual([221, 60, 60]);
  });
});

describe('label maps as 8-bit greyscale PNGs in the renderer', () => {
  it('what the renderer writes, sharp reads as the same values; what sharp writes, the renderer reads back', async () => {
    const m = blank(37, 23);
    for (let i = 0; i < m.data.length; i++) m.data[i] = (i * 7 + (i % 37)) % 19;
    const png = await encodeGreyPng(m);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels, meta.depth, meta.isPalette]).toEqual([
      'png',
      37,
      23,
      1,
      'uchar',
      false,
    ]);
    expect((await labelMapOfPng(png, 'the brush’s PNG')).data).toEqual(m.data);
    // sharp's own PNG (filtered rows, as the trainer writes maps) decodes to the same values
    const theirs = await sharp(Buffer.from(m.data), { raw: { width: 37, height: 23, channels: 1 } })
      .toColourspace('b-w')
      .png({ adaptiveFiltering: true })
      .toBuffer();
    expect((await decodeGreyPng(new Uint8Array(theirs))).data).toEqual(m.data);
    const rgb = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#123456' } })
      .png()
      .toBuffer();
    await expect(decodeGreyPng(new Uint8Array(rgb))).rejects.toThrow(/not an 8-bit greyscale/);
  });
});
