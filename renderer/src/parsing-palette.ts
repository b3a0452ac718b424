/**
 * One fixed colour per class of each face-parsing scheme, for the label-map overlay and the brush:
 * the same class always the same colour, neighbouring parts (brows, eyes, lips) far apart in hue,
 * and a side's pair (left/right brow, eye, ear) two shades of one hue, so that a mirrored map reads
 * at a glance. Background (class 0) is drawn transparent. Schemes we do not know get a generated
 * wheel of hues.
 */
const LAPA_11 = [
  '#000000', // background (transparent in the overlay)
  '#f2b48c', // skin
  '#2e7d32', // left eyebrow
  '#81c784', // right eyebrow
  '#1565c0', // left eye
  '#64b5f6', // right eye
  '#e53935', // nose
  '#d81b60', // upper lip
  '#6a1b9a', // inner mouth
  '#f06292', // lower lip
  '#6d4c41', // hair
];

const CELEBAMASK_19 = [
  '#000000', // background
  '#f2b48c', // skin
  '#e53935', // nose
  '#fdd835', // eye_g (glasses)
  '#1565c0', // l_eye
  '#64b5f6', // r_eye
  '#2e7d32', // l_brow
  '#81c784', // r_brow
  '#ef6c00', // l_ear
  '#ffb74d', // r_ear
  '#6a1b9a', // mouth
  '#d81b60', // u_lip
  '#f06292', // l_lip
  '#6d4c41', // hair
  '#00897b', // hat
  '#c0ca33', // ear_r (earring)
  '#8e24aa', // neck_l (necklace)
  '#bcaaa4', // neck
  '#546e7a', // cloth
];

/** The colours of a scheme's classes (hex), by class index. */
export function parsingColours(scheme: string, classes: number): string[] {
  const known = scheme === 'lapa-11' ? LAPA_11 : scheme === 'celebamask-19' ? CELEBAMASK_19 : null;
  if (known && known.length === classes) return known;
  return Array.from({ length: classes }, (_, i) =>
    i === 0 ? '#000000' : `hsl(${Math.round(((i - 1) * 360) / Math.max(1, classes - 1))} 70% 55%)`,
  );
}

/** A colour as [r, g, b] 0–255 (hex #rrggbb, or hsl(h s% l%) as parsingColours makes). */
export function rgbOf(colour: string): [number, number, number] {
  const hex = /^#([0-9a-f]{6})$/i.exec(colour);
  if (hex) {
    const n = Number.parseInt(hex[1]!, 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  const hsl = /^hsl\((\d+(?:\.\d+)?) (\d+(?:\.\d+)?)% (\d+(?:\.\d+)?)%\)$/.exec(colour);
  if (!hsl) return [128, 128, 128];
  const h = Number(hsl[1]) / 360;
  const s = Number(hsl[2]) / 100;
  const l = Number(hsl[3]) / 100;
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const ch = (t: number) => {
    const u = t < 0 ? t + 1 : t > 1 ? t - 1 : t;
    const v = u < 1 / 6 ? p + (q - p) * 6 * u : u < 1 / 2 ? q : u < 2 / 3 ? p + (q - p) * (2 / 3 - u) * 6 : p;
    return Math.round(v * 255);
  };
  return [ch(h + 1 / 3), ch(h), ch(h - 1 / 3)];
}
