import { computed, ref, type Ref } from 'vue';
import type { ClusterPack, RunDetail } from '../../../electron/common/contract.js';
import { api, messageOf } from '../api.js';
import type { Provenance } from '../run-provenance.js';

/** Take it to a GPU cluster: camd cluster-pack into the app's exports. */
export function useClusterPack(o: {
  id: () => string;
  detail: Ref<RunDetail | null>;
  isPretrain: Ref<boolean>;
  active: Ref<boolean>;
  provenance: Ref<Provenance | null>;
}) {
  const { id, detail, isPretrain, active, provenance } = o;
  const packGpus = ref(8);
  const packCopy = ref(false);
  /** The model on the cluster: the run's own (ViT-B when the released code has no such size), or ViT-L / ViT-H. */
  const packPreset = ref<'' | 'base' | 'large' | 'huge'>('');
  const runPreset = computed(() => {
    const st = detail.value?.config['settings'] as { preset?: unknown } | undefined;
    return typeof st?.preset === 'string' ? st.preset : null;
  });
  const packing = ref(false);
  const packed = ref<ClusterPack | null>(null);
  const packError = ref<string | null>(null);
  const canPack = computed(
    () => isPretrain.value && provenance.value?.kind !== 'torchrun' && !active.value && Boolean(detail.value?.out_dir),
  );
  async function pack(): Promise<void> {
    packing.value = true;
    packError.value = null;
    try {
      packed.value = await api.call('runs.clusterPack', {
        id: id(),
        gpus: packGpus.value,
        copy: packCopy.value,
        ...(packPreset.value ? { preset: packPreset.value } : {}),
      });
    } catch (e) {
      packError.value = messageOf(e);
    } finally {
      packing.value = false;
    }
  }
  return { packGpus, packCopy, packPreset, runPreset, packing, packed, packError, canPack, pack };
}
