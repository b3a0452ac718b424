// The contract (and the trainer's protocol module it imports) is shared with the renderer and the
// Electron preload: no Node and no DOM import anywhere below it.
import { describe, expect, it } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const ALIASES: Record<string, string> = { 'camd-studio/trainer/protocol': 'trainer/src/api/protocol.ts' };

function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/g)].map((m) => m[1]!);
}

function walk(entry: string): { files: Set<string>; bare: Set<string> } {
  const files = new Set<string>();
  const bare = new Set<string>();
  const stack = [resolve(ROOT, entry)];
  while (stack.length) {
    const f = stack.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    for (const spec of importsOf(f)) {
      if (ALIASES[spec]) stack.push(resolve(ROOT, ALIASES[spec]));
      else if (spec.startsWith('.')) {
        const ts = resolve(dirname(f), spec.replace(/\.js$/, '.ts'));
        if (!existsSync(ts)) throw new Error(`${f}: cannot resolve ${spec}`);
        stack.push(ts);
      } else bare.add(spec);
    }
  }
  return { files, bare };
}

/** The first use of Node or the DOM in a file's code (comments left out), or null. */
function impure(f: string): string | null {
  const code = readFileSync(f, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  return /\b(process|require|Buffer|__dirname)\b\.|\bwindow\.|\bdocument\./.exec(code)?.[0] ?? null;
}

describe('the shared modules', () => {
  for (const entry of [
    'electron/common/contract.ts',
    'electron/common/client.ts',
    'electron/common/csp.ts',
    'electron/common/names.ts',
    'electron/common/bridge.ts',
    'trainer/src/api/protocol.ts',
  ]) {
    it(`${entry} imports only zod and pure modules`, () => {
      const { files, bare } = walk(entry);
      expect([...bare].filter((b) => b !== 'zod')).toEqual([]);
      for (const f of files) expect(impure(f), f).toBeNull();
      // the walk followed every module the entry imports (not only the entry itself)
      for (const spec of importsOf(resolve(ROOT, entry)).filter((s) => s.startsWith('.')))
        expect(files.has(resolve(ROOT, dirname(entry), spec.replace(/\.js$/, '.ts'))), spec).toBe(true);
    });
  }

  it('the check finds Node where it is used (a control: the services are not pure)', () => {
    const { files, bare } = walk('electron/services/app.ts');
    expect([...bare]).toContain('node:fs');
    expect([...files].some((f) => impure(f) !== null)).toBe(true);
  });
});
