/**
 * Named parameters of a model, in three roles:
 *  - online: trained by AdamW (in varList);
 *  - frozen: part of the online network but not trained (patch embedding unless trainPatchEmbed, §2);
 *  - momentum: EMA copies, never in varList (§2.1).
 * Names follow the timm / PyTorch names of method.md §2 (`blocks.0.attn.qkv.weight` …).
 * Layout note: Linear weights are stored (in, out), the transpose of PyTorch's (out, in).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.js';

export type ParamRole = 'online' | 'frozen' | 'momentum';

let storeCounter = 0;

/** A parameter's values in host memory, outside the tensor backend (see moveToHost). */
export interface HostParam {
  shape: number[];
  data: Float32Array;
}

export class ParamStore {
  readonly vars = new Map<string, tf.Variable>();
  readonly roles = new Map<string, ParamRole>();
  /** Parameters moved out of the backend's memory (momentum copies, ops/host-state.ts). */
  private readonly hostVals = new Map<string, HostParam>();
  /** Unique per store, so that several models can live in one process (tfjs variable names are global). */
  private readonly uid = `camd${storeCounter++}`;

  /** A parameter from host values, or a device-side copy of a tensor (no read-back). */
  add(name: string, shape: number[], values: Float32Array | tf.Tensor, role: ParamRole): tf.Variable {
    if (this.vars.has(name)) throw new Error(`parameter ${name} defined twice`);
    const init = () =>
      values instanceof tf.Tensor ? values.clone().reshape(shape) : tf.tensor(values, shape, 'float32');
    const v = tf.tidy(() => tf.variable(init(), role === 'online', `${this.uid}/${name}`));
    this.vars.set(name, v);
    this.roles.set(name, role);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v)
      throw new Error(
        this.hostVals.has(name) ? `parameter ${name} is held in host memory (use host())` : `unknown parameter ${name}`,
      );
    return v;
  }

  has(name: string): boolean {
    return this.vars.has(name) || this.hostVals.has(name);
  }

  /** The host values of a parameter moved by moveToHost, or undefined for one that is a tensor. */
  host(name: string): HostParam | undefined {
    return this.hostVals.get(name);
  }

  shapeOf(name: string): number[] {
    return this.hostVals.get(name)?.shape ?? this.get(name).shape;
  }

  /** Moves a parameter's values out of the backend into a host array (its variable is disposed). */
  moveToHost(name: string): void {
    const v = this.get(name);
    this.hostVals.set(name, { shape: [...v.shape], data: v.dataSync() as Float32Array });
    v.dispose();
    this.vars.delete(name);
  }

  /** The parameter's values as a host array: a copy read from the backend, or the host array itself. */
  async values(name: string): Promise<Float32Array> {
    return this.hostVals.get(name)?.data ?? ((await this.get(name).data()) as Float32Array);
  }

  /** A copy of the parameter's values, read synchronously (cpu and wasm backends; tests). */
  valuesSync(name: string): Float32Array {
    return this.hostVals.get(name)?.data.slice() ?? (this.get(name).dataSync().slice() as Float32Array);
  }

  /** Sets a parameter's values (same shape) wherever it lives. */
  setValues(name: string, data: Float32Array): void {
    const h = this.hostVals.get(name);
    if (h) {
      if (data.length !== h.data.length)
        throw new Error(`parameter ${name}: ${data.length} values for shape [${h.shape}]`);
      h.data.set(data);
      return;
    }
    const v = this.get(name);
    tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
  }

  /** Names in definition order (host-held ones included). */
  names(role?: ParamRole): string[] {
    return [...this.roles.keys()].filter((n) => role === undefined || this.roles.get(n) === role);
  }

  /** Name of a tfjs variable back to the parameter name. */
  nameOf(v: tf.Variable): string {
    return v.name.slice(this.uid.length + 1);
  }

  count(role?: ParamRole): number {
    return this.names(role).reduce((s, n) => s + (this.hostVals.get(n)?.data.length ?? this.get(n).size), 0);
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
    this.hostVals.clear();
    this.roles.clear();
  }
}

// ---- initialisers (method.md §2 "Initialisation") ----

export function xavierUniform(rng: Rng, fanIn: number, fanOut: number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const a = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-limit, limit);
  return a;
}

export function normalInit(rng: Rng, n: number, std: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal(0, std);
  return a;
}

export function uniformInit(rng: Rng, n: number, bound: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-bound, bound);
  return a;
}

export function constInit(n: number, value: number): Float32Array {
  return new Float32Array(n).fill(value);
}
