// The fields of a pre-training run are declared once (protocol/pretrain-fields.ts): the spec, the
// run record, the CLI's flags and help, and the docs' flag table all follow that one declaration.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { camd } from '../support/cli.js';
import {
  flagName,
  helpOf,
  PRETRAIN_FIELDS,
  pretrainDefault,
  type Field,
  type PretrainField,
} from '../../trainer/src/protocol/pretrain-fields.js';
import { PretrainSpec, parseSpec } from '../../trainer/src/protocol/specs.js';
import { RunSettings } from '../../trainer/src/train/run-settings.js';
import { RunOptions } from '../../trainer/src/train/run-folder.js';
import { toSpec } from '../../trainer/src/cli/pretrain.js';

const KEYS = Object.keys(PRETRAIN_FIELDS) as PretrainField[];
const field = (k: PretrainField): Field => PRETRAIN_FIELDS[k];
const ofRole = (role: Field['role']) => KEYS.filter((k) => field(k).role === role).sort();
const FLAGGED = KEYS.filter((k) => field(k).flag !== null);

describe('one declaration of the pre-training fields', () => {
  it('the spec, the run record and the run options are the declared fields', () => {
    expect(Object.keys(PretrainSpec.shape).sort()).toEqual([...KEYS].sort());
    expect(Object.keys(RunSettings.shape).sort()).toEqual(ofRole('setting'));
    const options = Object.keys(RunOptions.shape);
    for (const k of ofRole('option')) expect(options).toContain(k);
    // a field that is not declared is refused at the boundary, by name
    expect(() => parseSpec(PretrainSpec, { out: '/tmp/r', batchSize: 4 })).toThrow("unknown field(s) 'batchSize'");
  });

  it('camd pretrain --help lists every declared flag with its declared default, in the declared order', () => {
    const r = camd(['pretrain', '--help']);
    expect(r.status).toBe(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    let at = -1;
    for (const k of FLAGGED) {
      const name = flagName(field(k))!;
      const i = help.indexOf(`${field(k).flag} `);
      expect(i, `${name} in --help`).toBeGreaterThan(at);
      at = i;
      expect(help).toContain(helpOf(k));
      const d = pretrainDefault(k);
      if (d !== undefined && field(k).defaultText === undefined) expect(helpOf(k)).toContain(`(default ${String(d)})`);
    }
  });

  it("docs/pretraining.md's flag table has every flag, with the declared default", () => {
    const doc = readFileSync(new URL('../../docs/pretraining.md', import.meta.url), 'utf8');
    const rows = doc.split('\n').filter((l) => l.startsWith('| `--'));
    for (const k of FLAGGED) {
      const name = flagName(field(k))!;
      const row = rows.find((l) => new RegExp(`\`${name}[ \`]`).test(l.split('|')[1]!));
      expect(row, `${name} in the docs' table`).toBeDefined();
      const d = pretrainDefault(k);
      if (d === undefined || field(k).defaultText !== undefined) continue;
      const shown = row!.split('|')[2]!.replace(/[`\s]/g, '');
      expect(shown.startsWith(String(d)), `${name}: the docs say ${shown}, the declaration ${String(d)}`).toBe(true);
    }
  });

  it("every flag's text is read as its field says, and the spec it makes is valid", () => {
    const text: Record<Field['read'], string> = { int: '3', float: '0.5', path: 'some/dir', word: '', threads: '2' };
    const words: Partial<Record<PretrainField, string>> = {
      preset: 'small',
      backend: 'wasm',
      probeFormat: 'folders',
      probeSchema: 'mine',
      recompute: 'on',
    };
    const opts: Record<string, string> = {};
    for (const k of FLAGGED) {
      if (['resume', 'continueFrom', 'init', 'steps'].includes(k)) continue; // one of each pair below
      const name = flagName(field(k))!
        .slice(2)
        .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      opts[name] = words[k] ?? text[field(k).read];
    }
    const spec = toSpec(opts);
    expect(spec).toMatchObject({ batch: 3, maskRatio: 0.5, threads: 2, preset: 'small', recompute: 'on' });
    expect(spec['data']).toMatch(/^\/.*some\/dir$/);
    expect(() => parseSpec(PretrainSpec, spec)).not.toThrow();
    expect(() => toSpec({ batch: 'x' })).toThrow("--batch must be an integer, got 'x'");
    expect(() => toSpec({ threads: '0' })).toThrow("--threads must be 'auto' or an integer 1..64, got '0'");
  });
});
