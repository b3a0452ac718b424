import { computed, ref, type Ref } from 'vue';
import { useRoute } from 'vue-router';
import { api } from '../api.js';
import type { LabelField, LabelSchema } from '../../../electron/common/contract.js';

export type LabelTab = 'label' | 'schema' | 'progress';

/** What is being labelled: a dataset, one of its label schemas, and the schema's fields by kind. */
export function useLabelSchemas(tab: Ref<LabelTab>) {
  const route = useRoute();
  const datasetId = ref<number | null>(null);
  const schemas = ref<LabelSchema[]>([]);
  const schemaId = ref<number | null>(null);
  const schema = computed(() => schemas.value.find((s) => s.id === schemaId.value) ?? null);

  /** The fields a key sets: the classes of a class schema, the attributes of an attribute one. */
  const main = computed<LabelField[]>(() =>
    (schema.value?.fields ?? []).filter((f) => f.kind === (schema.value?.task === 'far' ? 'attribute' : 'class')),
  );
  const numbers = computed(() => (schema.value?.fields ?? []).filter((f) => f.kind === 'number'));
  const points = computed(() => (schema.value?.fields ?? []).filter((f) => f.kind === 'point'));
  const fieldName = (id: number) =>
    schema.value?.fields.find((f) => f.id === id)?.name ??
    schema.value?.deleted.find((f) => f.id === id)?.name ??
    `#${id}`;

  async function loadSchemas(keep?: number): Promise<void> {
    if (datasetId.value === null) return;
    schemas.value = await api.call('labels.schemas', { dataset: datasetId.value });
    const want = keep ?? schemaId.value ?? Number(route.query['schema']);
    schemaId.value = schemas.value.find((s) => s.id === want)?.id ?? schemas.value[0]?.id ?? null;
    if (schemas.value.length === 0) tab.value = 'schema';
  }

  return { datasetId, schemas, schemaId, schema, main, numbers, points, fieldName, loadSchemas };
}
