/** A number field's value; an emptied field (v-model.number gives '') takes the default. */
export const num = (v: number | string | null): number | undefined =>
  typeof v === 'number' && !Number.isNaN(v) ? v : undefined;
