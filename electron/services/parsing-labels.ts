/**
 * `parsing.saveLabel`: a person's corrected parsing label map of an image of the store (the
 * brush's save) written to geometry_labels through the trainer's check (the PNG decoded by sharp:
 * 8-bit greyscale, the image's size, the scheme's classes; annotation/parsing-mask.ts). The PNG
 * arrives as base64 from the renderer and is trusted no further than that check.
 */
import { CamdError, saveParsingLabel, type Store } from 'camd-studio/trainer';
import type { z } from 'zod';
import type { OPS } from '../common/contract.js';

type SaveParams = z.infer<(typeof OPS)['parsing.saveLabel']['params']>;
type Saved = z.infer<(typeof OPS)['parsing.saveLabel']['result']>;

export class ParsingLabels {
  constructor(private readonly store: Store) {}

  async save(p: SaveParams): Promise<Saved> {
    const png = Buffer.from(p.png, 'base64');
    if (png.length === 0) throw new CamdError('input', 'the label map is empty', 'png');
    let saved;
    try {
      saved = await saveParsingLabel(this.store.db, p.image, p.scheme, new Uint8Array(png), {
        labeller: p.labeller,
        source: p.source,
      });
    } catch (e) {
      // the trainer names the map 'mask'; here it is the op's 'png'
      if (e instanceof CamdError && e.field === 'mask') throw new CamdError(e.kind, e.message, 'png');
      throw e;
    }
    const { label, counts } = saved;
    return {
      image: label.imageId,
      scheme: label.scheme,
      source: label.source,
      labeller: label.labeller,
      updatedAt: label.updatedAt,
      counts,
    };
  }
}
