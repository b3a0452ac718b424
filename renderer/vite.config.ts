// The renderer's build: Vue single-file components into renderer/dist, loaded by the Electron
// window (camd://app/) and by browser mode (npm run web). No inline script (the CSP forbids it).
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  plugins: [vue()],
  resolve: {
    alias: [{ find: /^camd-studio\/trainer\/protocol$/, replacement: here('../trainer/src/api/protocol.ts') }],
  },
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    target: 'chrome120',
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 800,
  },
});
