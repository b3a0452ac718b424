// The preload's build: electron/preload.ts and what it imports (the contract's names) into one
// CommonJS file, electron/dist/preload.cjs, that requires only `electron` — a sandboxed preload
// can load neither ES modules nor other files.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  publicDir: false,
  build: {
    outDir: here('dist'),
    emptyOutDir: false,
    target: 'chrome120',
    minify: false,
    sourcemap: false,
    lib: { entry: here('preload.ts'), formats: ['cjs'], fileName: () => 'preload.cjs' },
    rollupOptions: { external: ['electron'] },
  },
});
