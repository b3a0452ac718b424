/** Suggestions for a typed folder path, from the host (`datasets.completePath`), 150 ms after the last key. */
import { ref, watch, type Ref } from 'vue';
import { api } from './api.js';

export function usePathCompletion(path: Ref<string>): Ref<string[]> {
  const suggestions = ref<string[]>([]);
  let timer: ReturnType<typeof setTimeout> | null = null;
  watch(path, (p) => {
    if (timer) clearTimeout(timer);
    if (!p.startsWith('/') && !p.startsWith('~') && !/^[A-Za-z]:/.test(p)) return void (suggestions.value = []);
    timer = setTimeout(async () => {
      try {
        suggestions.value = await api.call('datasets.completePath', { prefix: p });
      } catch {
        suggestions.value = []; // completion is a help, never an error
      }
    }, 150);
  });
  return suggestions;
}
