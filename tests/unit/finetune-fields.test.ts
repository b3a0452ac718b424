// The fields of a fine-tuning run and of an evaluation are declared once (protocol/finetune-fields.ts):
// the specs, the CLI's flags, their help and how their text is read, and the docs' flag tables all
// follow that one declaration.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { camd } from '../support/cli.js';
import { flagName, type Field } from '../../trainer/src/protocol/fields.js';
import {
  EVAL_FIELDS,
  evalHelpOf,
  FINETUNE_FIELDS,
  finetuneDefault,
  finetuneHelpOf,
} from '../../trainer/src/protocol/finetune-fields.js';
import { EvalSpec, FinetuneFields, FinetuneSpec, parseSpec } from '../../trainer/src/protocol/specs.js';
import {
  toEvalSpec,
  toFinetuneSpec,
  type EvalCliOptions,
  type FinetuneCliOptions,
} from '../../trainer/src/cli/finetune-flags.js';

const DOC = readFileSync(new URL('../../docs/finetuning.md', import.meta.url), 'utf8');

/** One command's declaration, its help and the heading of its table in docs/finetuning.md. */
const COMMANDS = [
  {
    name: 'finetune',
    fields: FINETUNE_FIELDS as Record<string, Field>,
    helpOf: finetuneHelpOf as (k: string) => string,
  },
  { name: 'eval', fields: EVAL_FIELDS as Record<string, Field>, helpOf: evalHelpOf as (k: string) => string },
];

const flagged = (fields: Record<string, Field>) => Object.keys(fields).filter((k) => fields[k]!.flag !== null);

/** The default --help gives: the declared default, or what defaultText says after "default ". */
function helpDefault(f: Field, key: string): string | undefined {
  if (f.defaultText !== undefined) return /^default (\S+)/.exec(f.defaultText)?.[1];
  const d = finetuneDefault(key as never);
  return d === undefined ? undefined : String(d);
}

/** The rows of the docs' table under `## Flags of \`camd <name>\``. */
function docRows(name: string): string[] {
  const at = DOC.indexOf(`## Flags of \`camd ${name}\``);
  expect(at, `a flag table of camd ${name} in docs/finetuning.md`).toBeGreaterThan(-1);
  const lines = DOC.slice(at).split('\n').slice(1);
  const table = lines.slice(lines.findIndex((l) => l.startsWith('|')));
  return table
    .slice(
      0,
      table.findIndex((l) => !l.startsWith('|')),
    )
    .filter((l) => l.startsWith('| `--'));
}

describe('one declaration of the fine-tuning fields', () => {
  it('the specs are the declared fields', () => {
    expect(Object.keys(FinetuneFields.shape)).toEqual(Object.keys(FINETUNE_FIELDS));
    expect(Object.keys(FinetuneSpec.shape)).toEqual(Object.keys(FINETUNE_FIELDS));
    expect(Object.keys(EvalSpec.shape)).toEqual(Object.keys(EVAL_FIELDS));
    // a field that is not declared is refused at the boundary, by name
    const spec = { task: 'fer', format: 'folders', data: '/d', init: 'none', out: '/o' };
    expect(() => parseSpec(FinetuneSpec, { ...spec, batchSize: 4 })).toThrow("unknown field(s) 'batchSize'");
    // the checks across fields, with their messages
    expect(() => parseSpec(FinetuneSpec, { ...spec, init: '/e.safetensors', preset: 'tiny' })).toThrow(
      '--preset goes with --init none; a checkpoint brings its own architecture',
    );
    expect(() => parseSpec(FinetuneSpec, { ...spec, format: 'store' })).toThrow(
      '--schema is required with --format store (the label schema: its name or id)',
    );
    expect(() => parseSpec(FinetuneSpec, { ...spec, labels: 'human' })).toThrow('--schema goes with --format store');
    expect(() => parseSpec(EvalSpec, { checkpoint: '/c', task: 'far', format: 'store', data: '/d' })).toThrow(
      '--schema is required with --format store (the label schema: its name or id)',
    );
  });

  for (const { name, fields, helpOf } of COMMANDS) {
    it(`camd ${name} --help lists every declared flag with its declared default, in the declared order`, () => {
      const r = camd([name, '--help']);
      expect(r.status).toBe(0);
      const help = r.stdout.replace(/\s+/g, ' ');
      let at = -1;
      for (const k of flagged(fields)) {
        const f = fields[k]!;
        const i = help.indexOf(`${f.flag} `);
        expect(i, `${flagName(f)} in --help`).toBeGreaterThan(at);
        at = i;
        expect(help).toContain(helpOf(k));
        const d = finetuneDefault(k as never);
        const shown = helpDefault(f, k);
        if (d !== undefined) expect(shown, `${flagName(f)}: --help gives its default`).toBeDefined();
        if (typeof d === 'number') expect(Number(shown), `${flagName(f)}: --help says ${shown}`).toBe(d);
        else if (d !== undefined) expect(shown).toBe(String(d));
      }
      expect(help.indexOf('--json ')).toBeGreaterThan(at);
    });

    it(`docs/finetuning.md's table of camd ${name} has every flag, with the declared default`, () => {
      const rows = docRows(name);
      for (const k of flagged(fields)) {
        const f = fields[k]!;
        const flag = flagName(f)!;
        const row = rows.find((l) => new RegExp(`\`${flag}[ \`]`).test(l.split('|')[1]!));
        expect(row, `${flag} in the docs' table`).toBeDefined();
        const inDocs = row!.split('|')[2]!.replace(/[`\s]/g, '');
        const shown = helpDefault(f, k);
        if (f.required && shown === undefined) expect(inDocs, `${flag} is required`).toBe('required');
        if (shown === undefined) continue;
        const d = finetuneDefault(k as never);
        if (typeof d === 'number')
          expect(Number.parseFloat(inDocs), `${flag}: the docs say ${inDocs}, the declaration ${d}`).toBe(d);
        else expect(inDocs.startsWith(shown), `${flag}: the docs say ${inDocs}, --help ${shown}`).toBe(true);
      }
    });
  }

  it("every flag's text is read as its field says, and the spec it makes is valid", () => {
    const words: Record<string, string> = {
      task: 'fer',
      format: 'store',
      schema: 'mine',
      labels: 'human+accepted',
      aa: 'none',
      split: 'lfwa-release',
      backend: 'wasm',
      recompute: 'on',
    };
    const numbers: Record<string, string> = {
      fewShot: '0.5',
      epochs: '3',
      batch: '4',
      blr: '1e-3',
      imgSize: '64',
      warmupEpochs: '1',
      layerDecay: '0.75',
      dropPath: '0',
      reprob: '0',
      minCropScale: '0.5',
      seed: '7',
      threads: '2',
    };
    const o: FinetuneCliOptions = {
      ...words,
      ...numbers,
      data: 'some/dir',
      init: 'none',
      preset: 'small',
      linearProbe: true,
      out: 'runs/ft',
      db: 'my.db',
      testData: 'test/dir',
    };
    const spec = toFinetuneSpec(o);
    expect(spec).toMatchObject({
      task: 'fer',
      init: 'none',
      preset: 'small',
      randAugment: 'none',
      linearProbe: true,
      fewShot: 0.5,
      epochs: 3,
      blr: 1e-3,
      threads: 2,
      seed: 7,
    });
    for (const k of ['data', 'out', 'db', 'testData']) expect(spec[k]).toMatch(/^\/.*/);
    // every flag of the declaration was read
    expect(Object.keys(spec).sort()).toEqual(flagged(FINETUNE_FIELDS).sort());
    // a test set of its own is face alignment's: a classification run refuses it
    expect(() => parseSpec(FinetuneSpec, spec)).toThrow('--test-data goes with --task landmarks or pose');
    const { testData: _t, ...classification } = spec;
    expect(() => parseSpec(FinetuneSpec, classification)).not.toThrow();

    const least = { task: 'far', format: 'celeba', data: 'd', init: 'none' };
    expect(toFinetuneSpec(least)).toMatchObject({ init: 'none', out: expect.stringMatching(/\/runs\/finetune-/) });
    expect(toFinetuneSpec({ ...least, init: 'e.safetensors' }).init).toMatch(/^\/.*\/e\.safetensors$/);
    expect(() => toFinetuneSpec({ ...least, batch: 'x' })).toThrow("--batch must be an integer, got 'x'");
    expect(() => toFinetuneSpec({ ...least, threads: '0' })).toThrow(
      "--threads must be 'auto' or an integer 1..64, got '0'",
    );
    // the missing flags are named in this order, as the messages name them
    expect(() => toFinetuneSpec({})).toThrow('--init CKPT|none is required');
    expect(() => toFinetuneSpec({ init: 'none' })).toThrow('--task far|fer is required');
    expect(() => toFinetuneSpec({ init: 'none', task: 'far' })).toThrow('--format is required');
    expect(() => toFinetuneSpec({ init: 'none', task: 'far', format: 'celeba' })).toThrow('--data DIR is required');
  });

  it("camd eval's flags are read as their fields say", () => {
    const o: EvalCliOptions = {
      checkpoint: 'best.safetensors',
      task: 'fer',
      format: 'store',
      data: 'faces',
      schema: 'mine',
      labels: 'human',
      split: 'random',
      seed: '3',
      backend: 'cpu',
      db: 'my.db',
    };
    const spec = toEvalSpec(o);
    // --test-data is a face-geometry model's (its own test set); a classifier's dataset gives its splits
    expect(Object.keys(spec).sort()).toEqual(
      flagged(EVAL_FIELDS)
        .filter((k) => k !== 'testData')
        .sort(),
    );
    expect(() => parseSpec(EvalSpec, { ...spec, testData: '/t' })).toThrow(
      '--test-data goes with a landmarks or pose model',
    );
    expect(spec).toMatchObject({ seed: 3, backend: 'cpu', checkpoint: expect.stringMatching(/^\/.*best/) });
    expect(() => parseSpec(EvalSpec, spec)).not.toThrow();
    expect(() => toEvalSpec({})).toThrow('--checkpoint is required');
    // the task is the checkpoint's own: --task may be left out
    expect(() => toEvalSpec({ checkpoint: 'c' })).toThrow('--format is required');
    expect(toEvalSpec({ checkpoint: 'c', format: 'celeba', data: 'd' })).not.toHaveProperty('task');
    expect(() => toEvalSpec({ ...o, seed: 'z' })).toThrow("--seed must be an integer, got 'z'");
  });
});
