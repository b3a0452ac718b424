/** Numbers, sizes and times for people. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function percent(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined ? '–' : `${(100 * v).toFixed(digits)} %`;
}

/** A run's headline value as its metric reads: a loss as a number, head pose's MAE in degrees, the rest (accuracies, NME, F1) as percentages. */
export function metricValue(name: string, v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  if (name === 'loss') return number(v);
  if (name === 'mae') return `${v.toFixed(2)}°`;
  return percent(v);
}

/** A metric's name as the tables write it. */
export const metricName = (name: string): string => ({ nme: 'NME', mae: 'MAE', mean_f1: 'mean F1' })[name] ?? name;

export function number(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return Number(v.toPrecision(digits)).toString();
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** A run's name for tables and legends. */
export function runLabel(r: { id: string; name: string | null; kind: string }): string {
  return r.name ?? `${r.kind} ${shortId(r.id)}`;
}

/**
 * A run's key setting as the runs list writes it: fractions to three significant digits (a masking
 * ratio of 118/196 is 0.602, not 0.6020408163265306), and a starting checkpoint by the name of the run
 * it belongs to (`runOf` finds it by folder), else by its file name.
 */
export function settingText(name: string, value: unknown, runOf: (path: string) => string | null = () => null): string {
  if (typeof value === 'number')
    return Number.isInteger(value) || Math.abs(value) < 1e-3 ? String(value) : String(Number(value.toPrecision(3)));
  if ((name === 'init' || name === 'checkpoint') && typeof value === 'string')
    return runOf(value) ?? value.split(/[\\/]/).pop() ?? value;
  return String(value);
}

/** One end of a chart's range as written under it: whole numbers (steps, epochs) exactly, others to four digits. */
export function rangeEnd(v: number): string {
  return Number.isInteger(v)
    ? v.toLocaleString('en-US')
    : Number(v.toPrecision(4)).toLocaleString('en-US', { maximumSignificantDigits: 4 });
}

/**
 * Axis tick labels with just enough digits to tell them apart and to say each value truly
 * (1.0991, 1.0993, … not 1.099 three times; 15, not 20, between 10 and 20).
 */
export function tickLabels(values: readonly number[]): string[] {
  const finite = values.filter((v) => Number.isFinite(v));
  const big = Math.max(0, ...finite.map((v) => Math.abs(v)));
  const tiny = big !== 0 && big < 1e-3;
  // the spacing of the ticks: a label may be off by a thousandth of it, no more
  const sorted = [...finite].sort((a, b) => a - b);
  const gaps = sorted
    .slice(1)
    .map((v, i) => v - sorted[i]!)
    .filter((d) => d > 0);
  const gap = gaps.length ? Math.min(...gaps) : Math.max(big, 1e-300);
  for (let digits = 1; digits <= 10; digits++) {
    const out = values.map((v) =>
      !Number.isFinite(v)
        ? ''
        : v === 0
          ? '0'
          : tiny || Math.abs(v) >= 1e6
            ? v.toExponential(Math.max(0, digits - 1))
            : String(Number(v.toPrecision(digits))),
    );
    const true_ = values.every((v, i) => !Number.isFinite(v) || Math.abs(Number(out[i]) - v) <= 1e-3 * gap);
    if (true_ && new Set(out.filter(Boolean)).size === finite.length) return out;
  }
  return values.map((v) => String(v));
}
