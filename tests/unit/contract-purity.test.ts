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

describe('the shared modules', () => {
  for (const entry of ['electron/common/contract.ts', 'electron/common/client.ts', 'electron/common/csp.ts', 'electron/common/names.ts', 'electron/common/bridge.ts', 'trainer/src/api/protocol.ts']) {
    it(`${entry} imports only zod and pure modules`, () => {
      const { files, bare } = walk(entry);
      expect([...bare].filter((b) => b !== 'zod')).toEqual([]);
      const code = (f: string) => readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      for (const f of files) expect(code(f), f).not.toMatch(/\b(process|require|Buffer|__dirname)\b\.|\bwindow\.|\bdocument\./);
      expect(files.size).toBeGreaterThan(0);
    });
  }
});
