/** `camd import FILE --out FILE`: a PyTorch ViT encoder as our encoder file (interop/vit-import.ts). */
import { resolve } from 'node:path';
import { importVit } from '../interop/vit-import.js';
import { PRESET_NAMES, type PresetName } from '../model/config.js';
import { CamdError } from '../util/errors.js';

export interface ImportCliOptions {
  out?: string;
  teacher?: boolean;
  preset?: string;
  json?: boolean;
}

export async function importCommand(file: string, o: ImportCliOptions): Promise<void> {
  if (!o.out) throw new CamdError('usage', 'camd import needs --out FILE (the encoder file to write, e.g. encoder.safetensors)');
  if (o.preset !== undefined && !(PRESET_NAMES as readonly string[]).includes(o.preset)) throw new CamdError('usage', `--preset must be one of ${PRESET_NAMES.join(', ')}, got '${o.preset}'`);
  const r = await importVit(resolve(file), resolve(o.out), { ...(o.teacher ? { teacher: true } : {}), ...(o.preset ? { preset: o.preset as PresetName } : {}) });
  if (o.json) return void process.stdout.write(JSON.stringify({ type: 'import', ...r }) + '\n');
  const m = r.model;
  process.stdout.write(
    `${r.source}: the ${r.which} ViT encoder, ${m.embedDim} wide, ${m.depth} deep, ${m.numHeads} heads (preset ${r.preset}), ${m.patchSize}-px patches at ${m.imgSize} px; ${r.tensors} tensors\n` +
      (r.ignored.length ? `  not part of the encoder, left out: ${r.ignored.slice(0, 8).join(', ')}${r.ignored.length > 8 ? `, … (${r.ignored.length} in all)` : ''}\n` : '') +
      `  written: ${r.out} (camd finetune --init, camd probe --checkpoint, camd see --data read it)\n`,
  );
}
