/** Mask preview of an image of the store: the trainer's own views and block mask, as PNG data URLs. */
import sharp from 'sharp';
import { maskPreview, type PreviewImage } from 'camd-studio/trainer';
import type { MaskPreviewResult } from '../common/contract.js';
import { MaskPreviewParams } from '../common/contract.js';
import type { Images } from './images.js';
import type { z } from 'zod';

async function png(img: PreviewImage): Promise<string> {
  const buf = await sharp(Buffer.from(img.rgb.buffer, img.rgb.byteOffset, img.rgb.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .png()
    .toBuffer();
  return `data:image/png;base64,${buf.toString('base64')}`;
}

export async function previewMask(
  images: Images,
  db: string,
  params: z.input<typeof MaskPreviewParams>,
): Promise<MaskPreviewResult> {
  const p = MaskPreviewParams.parse(params);
  const f = await images.file(p.image);
  const r = await maskPreview({
    image: f.path,
    db,
    preset: p.preset,
    imgSize: p.imgSize,
    maskRatio: p.maskRatio,
    seed: p.seed,
    sample: p.sample,
  });
  return {
    imgSize: r.imgSize,
    patchSize: r.patchSize,
    grid: r.grid,
    tokens: r.tokens,
    masked: r.masked,
    visible: r.visible,
    mask: r.mask,
    view1: await png(r.view1),
    view2: await png(r.view2),
  };
}
