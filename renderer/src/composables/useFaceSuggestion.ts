import { ref, watch } from 'vue';
import { api } from '../api.js';

/** The face models' guesses for a face crop (faces at ingest): shown beside the labels, never saved as one. */
export function useFaceSuggestion(imageId: () => number | undefined) {
  const suggestion = ref<{ text: string; source: string } | null>(null);
  watch(
    imageId,
    async (id) => {
      suggestion.value = null;
      if (id === undefined) return;
      try {
        const faces = await api.call('faces.ofImage', { id });
        const f = faces.length === 1 && faces[0]!.crop_image_id === id ? faces[0]! : null;
        const s = f?.suggestions as
          | {
              age?: number | null;
              gender?: string | null;
              emotion?: { emotion: string; score: number }[];
              source?: string;
            }
          | null
          | undefined;
        if (!s || imageId() !== id) return;
        const parts = [
          s.emotion?.[0] ? `${s.emotion[0].emotion} (${Math.round(s.emotion[0].score * 100)} %)` : null,
          s.gender ?? null,
          s.age != null ? `age ~${Math.round(s.age)}` : null,
        ].filter(Boolean);
        if (parts.length) suggestion.value = { text: parts.join(', '), source: s.source ?? 'the bundled face models' };
      } catch {
        suggestion.value = null; // suggestions are a help, never in the way
      }
    },
    { immediate: true },
  );
  return suggestion;
}
