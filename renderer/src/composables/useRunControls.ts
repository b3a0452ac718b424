import { ref, type Ref } from 'vue';
import { useRouter } from 'vue-router';
import { messageOf } from '../api.js';
import type { Provenance } from '../run-provenance.js';
import { useRuns } from '../stores/runs.js';

/** Pause, resume, stop and delete a run (delete asks first; a run brought in keeps its files). */
export function useRunControls(o: {
  id: () => string;
  provenance: Ref<Provenance | null>;
  /** The newest steps: a new pace after a pause or a resume. */
  rate: Ref<unknown[]>;
  error: Ref<string | null>;
}) {
  const { id, provenance, rate, error } = o;
  const runs = useRuns();
  const router = useRouter();
  /** The control being carried out. */
  const pending = ref<string | null>(null);

  async function act(what: 'pause' | 'resume' | 'stop'): Promise<void> {
    pending.value = what;
    error.value = null;
    try {
      await (what === 'pause' ? runs.pause(id()) : what === 'resume' ? runs.resume(id()) : runs.stop(id()));
      rate.value = [];
    } catch (e) {
      error.value = messageOf(e);
    } finally {
      pending.value = null;
    }
  }
  async function remove(): Promise<void> {
    const imported = provenance.value?.kind === 'torchrun' || provenance.value?.kind === 'pytorch';
    if (
      !confirm(
        imported
          ? 'Remove this run from the list, with its metrics? Its files stay where they are.'
          : 'Delete this run from the list, with its metrics and files?',
      )
    )
      return;
    try {
      await runs.remove(id(), true);
      await router.push('/runs');
    } catch (e) {
      error.value = messageOf(e);
    }
  }
  return { pending, act, remove };
}
