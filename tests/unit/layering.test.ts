// The folders of the trainer and of the app stand in floors: no two folders import each other,
// directly or round a longer loop, and the data-only contract (trainer/src/protocol) and the
// utilities import nothing above them. Read from the sources' own relative imports.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const IMPORT = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'dist' || n === 'node_modules' ? [] : sources(p);
    return /\.(ts|vue)$/.test(n) && !n.endsWith('.d.ts') ? [p] : [];
  });
}

/** Folder → the folders its files import (within `base`, one level deep). */
function folderGraph(base: string): Map<string, Map<string, string>> {
  const top = join(ROOT, base);
  const folderOf = (file: string) => {
    const r = relative(top, file).split('/');
    return r.length > 1 ? r[0]! : '.';
  };
  const graph = new Map<string, Map<string, string>>();
  for (const file of sources(top)) {
    const from = folderOf(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = normalize(join(dirname(file), m[1]!));
      if (relative(top, target).startsWith('..')) continue;
      const to = folderOf(target);
      if (to === from) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      graph.get(from)!.set(to, `${relative(ROOT, file)} imports ${m[1]}`);
    }
  }
  return graph;
}

/** Every loop of folders, each with one import that closes it. */
function loops(graph: Map<string, Map<string, string>>): string[] {
  const found: string[] = [];
  for (const start of graph.keys()) {
    const stack: { at: string; path: string[] }[] = [{ at: start, path: [start] }];
    const seen = new Set<string>();
    while (stack.length) {
      const { at, path } = stack.pop()!;
      for (const [next, why] of graph.get(at) ?? []) {
        // each loop once: from its smallest folder (imports within one folder are not edges)
        if (next === start && start === [...path].sort()[0]) found.push(`${[...path, start].join(' → ')} (${why})`);
        if (!seen.has(next) && next !== start) {
          seen.add(next);
          stack.push({ at: next, path: [...path, next] });
        }
      }
    }
  }
  return found;
}

describe('layering', () => {
  for (const base of ['trainer/src', 'electron']) {
    it(`${base}: no folder imports one that imports it back`, () => {
      const graph = folderGraph(base);
      expect(graph.size).toBeGreaterThan(5);
      expect(loops(graph)).toEqual([]);
    });
  }

  it('the contract and the utilities import nothing above them', () => {
    const graph = folderGraph('trainer/src');
    expect([...(graph.get('util')?.keys() ?? [])]).toEqual([]);
    expect([...(graph.get('protocol')?.keys() ?? [])].sort()).toEqual(['backends', 'model', 'util']);
  });

  it('finds a loop where there is one (a control)', () => {
    const g = new Map([
      ['a', new Map([['b', 'a imports b']])],
      ['b', new Map([['c', 'b imports c']])],
      ['c', new Map([['a', 'c imports a']])],
    ]);
    expect(loops(g)).toEqual(['a → b → c → a (c imports a)']);
  });
});
