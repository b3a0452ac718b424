/**
 * The configuration diff of a comparison (Aim's "show diff"): the fields, flattened to dotted
 * paths, whose values are not the same in every run — equal fields are hidden.
 */
export type Flat = Record<string, string>;

export function flatten(value: unknown, prefix = '', out: Flat = {}): Flat {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix)
    out[prefix] = value === undefined ? '' : Array.isArray(value) ? JSON.stringify(value) : String(value);
  return out;
}

export interface DiffRow {
  field: string;
  /** One value a run, '' where a run has no such field. */
  values: string[];
}

export function configDiff(configs: readonly unknown[]): DiffRow[] {
  const flats = configs.map((c) => flatten(c));
  const fields = [...new Set(flats.flatMap((f) => Object.keys(f)))].sort();
  return fields
    .map((field) => ({ field, values: flats.map((f) => f[field] ?? '') }))
    .filter((r) => new Set(r.values).size > 1);
}
