import { computed, ref, type Ref } from 'vue';
import type { OpResult, SeeFace } from '../../../electron/common/contract.js';
import { api, messageOf } from '../api.js';

/** What the model sees: one face of the dataset through the newest checkpoint (camd see), another on demand. */
export function useRunSee(o: {
  id: () => string;
  isPretrain: Ref<boolean>;
  checkpoints: Ref<OpResult<'checkpoints.list'>>;
}) {
  const { id, isPretrain, checkpoints } = o;
  const seen = ref<SeeFace | null>(null);
  const seeing = ref(false);
  const seeError = ref<string | null>(null);
  const seeSeed = ref(0);
  const canSee = computed(() => isPretrain.value && checkpoints.value.some((c) => c.kind === 'full' && c.exists));
  async function see(next: boolean): Promise<void> {
    if (next) seeSeed.value++;
    seeing.value = true;
    seeError.value = null;
    try {
      seen.value = await api.call('runs.see', { id: id(), seed: seeSeed.value });
    } catch (e) {
      seeError.value = messageOf(e);
    } finally {
      seeing.value = false;
    }
  }
  return { seen, seeing, seeError, canSee, see };
}
