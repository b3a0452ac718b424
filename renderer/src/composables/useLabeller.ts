import { computed, ref, watch } from 'vue';

/** Who is labelling: the name typed in, remembered in this browser (every label is saved with it). */
export function useLabeller() {
  const labeller = ref(localStorage.getItem('camd.labeller') ?? '');
  watch(labeller, (v) => v.trim() && localStorage.setItem('camd.labeller', v.trim()));
  const who = computed(() => labeller.value.trim());
  return { labeller, who };
}
