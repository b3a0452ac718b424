/**
 * CMYK to RGB as Pillow's `convert('RGB')` makes it (Convert.c's cmyk2rgb): no colour management,
 * each channel (255 − K) − (C · (255 − K)) / 255 in Pillow's rounded integer division. The
 * reference's loader (`Image.open(f).convert('RGB')`) sees CMYK JPEGs this way; libvips' own
 * conversion goes through an ICC profile and shifted a face's channel means by up to 8 grey levels.
 */

/** Pillow's MULDIV255: a·b/255, rounded, in integers. */
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** Interleaved CMYK (`channels` per pixel, the first four C, M, Y, K) to interleaved RGB. */
export function cmykToRgb(cmyk: Uint8Array, channels = 4): Uint8Array {
  const n = Math.floor(cmyk.length / channels);
  const rgb = new Uint8Array(n * 3);
  for (let p = 0, i = 0, j = 0; p < n; p++, i += channels, j += 3) {
    const nk = 255 - cmyk[i + 3]!;
    rgb[j] = nk - mulDiv255(cmyk[i]!, nk);
    rgb[j + 1] = nk - mulDiv255(cmyk[i + 1]!, nk);
    rgb[j + 2] = nk - mulDiv255(cmyk[i + 2]!, nk);
  }
  return rgb;
}
