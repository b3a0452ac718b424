/**
 * The point schemes a person annotates in the app (trainer/src/geometry/landmark-schemes.ts): their
 * point counts and the region each point belongs to, named as seen in the image ("image left" is
 * the subject's right), for the editor's "point 37 · eye (image left)". The run formats that
 * train each scheme (`camd finetune --format`), for listing a scheme's runs.
 */
export type SchemeName = '300w-68' | 'wflw-98' | 'aflw-19';

interface Region {
  from: number;
  to: number;
  name: string;
}

export interface SchemeView {
  name: SchemeName;
  title: string;
  points: number;
  /** The `--format` of a face-alignment run that predicts this scheme. */
  runFormat: string;
  regions: readonly Region[];
}

const r = (from: number, to: number, name: string): Region => ({ from, to, name });

export const SCHEME_VIEWS: readonly SchemeView[] = [
  {
    name: '300w-68',
    title: '300W (68 points)',
    points: 68,
    runFormat: '300w',
    regions: [
      r(0, 16, 'jaw'),
      r(17, 21, 'brow (image left)'),
      r(22, 26, 'brow (image right)'),
      r(27, 30, 'nose bridge'),
      r(31, 35, 'nostrils'),
      r(36, 41, 'eye (image left)'),
      r(42, 47, 'eye (image right)'),
      r(48, 59, 'outer lip'),
      r(60, 67, 'inner lip'),
    ],
  },
  {
    name: 'wflw-98',
    title: 'WFLW (98 points)',
    points: 98,
    runFormat: 'wflw',
    regions: [
      r(0, 32, 'jaw'),
      r(33, 41, 'brow (image left)'),
      r(42, 50, 'brow (image right)'),
      r(51, 54, 'nose bridge'),
      r(55, 59, 'nostrils'),
      r(60, 67, 'eye (image left)'),
      r(68, 75, 'eye (image right)'),
      r(76, 87, 'outer lip'),
      r(88, 95, 'inner lip'),
      r(96, 96, 'pupil (image left)'),
      r(97, 97, 'pupil (image right)'),
    ],
  },
  {
    name: 'aflw-19',
    title: 'AFLW (19 points)',
    points: 19,
    runFormat: 'aflw19',
    regions: [
      r(0, 2, 'brow (image left)'),
      r(3, 5, 'brow (image right)'),
      r(6, 8, 'eye (image left)'),
      r(9, 11, 'eye (image right)'),
      r(12, 14, 'nose'),
      r(15, 17, 'mouth'),
      r(18, 18, 'chin'),
    ],
  },
];

export function schemeView(name: string): SchemeView {
  return SCHEME_VIEWS.find((s) => s.name === name) ?? SCHEME_VIEWS[0]!;
}

/** The region of a 0-based point. */
export function regionOf(scheme: string, i: number): string {
  return schemeView(scheme).regions.find((g) => i >= g.from && i <= g.to)?.name ?? '';
}
