/**
 * A small builder of ONNX graphs over the ONNX protobuf schema (onnx-proto, the schema compiled by
 * protobufjs): named float32 initialisers, nodes with typed attributes, inputs and outputs with
 * symbolic dimensions, and the model around them. Opset 17 and IR version 8: what ONNX Runtime
 * loads and what Debian's python3-onnx (1.12) checks. No Python at run time.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Attr = number | number[] | string | { floats: number[] };

export const OPSET = 17;
export const IR_VERSION = 8;

/**
 * A protobuf message, so a whole .onnx file, cannot exceed 2 GiB; ONNX's way past it (weights in
 * a side file, external data) is not written here. What the graph itself takes is kept free.
 */
export const MAX_WEIGHT_BYTES = 2 ** 31 - 2 ** 24;

/** Null when weights of `bytes` fit one ONNX file, else the refusal in words. */
export function weightsTooLarge(bytes: number): string | null {
  if (bytes <= MAX_WEIGHT_BYTES) return null;
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
  return `the model's weights take ${gib(bytes)}, and an ONNX file holds at most ${gib(MAX_WEIGHT_BYTES)} of them (protobuf's 2 GiB limit): export it with --format safetensors or pytorch`;
}

/** A dimension: a size, or a symbolic name (a dynamic batch). */
export type Dim = number | string;

export class OnnxGraph {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private count = 0;
  /** Bytes of the float32 initialisers so far. */
  weightBytes = 0;

  /** A fresh value name from `hint`. */
  name(hint: string): string {
    let n = hint;
    while (this.used.has(n)) n = `${hint}_${++this.count}`;
    this.used.add(n);
    return n;
  }

  /** A float32 constant (stored little-endian as raw bytes). */
  floats(hint: string, shape: number[], data: Float32Array | number[]): string {
    const a = data instanceof Float32Array ? data : Float32Array.from(data);
    const size = shape.reduce((p, d) => p * d, 1);
    if (a.length !== size) throw new Error(`ONNX initialiser ${hint}: ${a.length} values for shape [${shape}]`);
    const name = this.name(hint);
    this.weightBytes += a.length * 4;
    const bytes = new Uint8Array(a.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < a.length; i++) view.setFloat32(i * 4, a[i]!, true);
    this.initializers.push({ name, dims: shape, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes });
    return name;
  }

  /** An int64 constant (shapes, axes, indices). */
  ints(hint: string, values: number[], shape: number[] = [values.length]): string {
    const name = this.name(hint);
    this.initializers.push({ name, dims: shape, dataType: onnx.TensorProto.DataType.INT64, int64Data: values });
    return name;
  }

  /** One node; returns its output names (`outs` of them). */
  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, outs = 1, hint = op.toLowerCase()): string[] {
    const output = Array.from({ length: outs }, () => this.name(hint));
    this.nodes.push({
      opType: op,
      name: this.name(`${hint}_node`),
      input: inputs,
      output,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return output;
  }

  /** One node with one output. */
  op(op: string, inputs: string[], attrs: Record<string, Attr> = {}, hint?: string): string {
    return this.node(op, inputs, attrs, 1, hint)[0]!;
  }

  input(name: string, dims: Dim[], doc: string): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, dims, doc));
    return name;
  }

  /** Declares `value` a graph output named `name` (an Identity when the names differ). */
  output(value: string, name: string, dims: Dim[], doc: string): void {
    if (value !== name) {
      this.used.add(name);
      this.nodes.push({ opType: 'Identity', name: this.name(`${name}_node`), input: [value], output: [name] });
    }
    this.outputs.push(valueInfo(name, dims, doc));
  }

  /** The model's bytes, with `metadata` as its metadata_props. */
  encode(o: { graphName: string; doc: string; producerVersion: string; metadata: Record<string, string> }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'CAMD Studio',
      producerVersion: o.producerVersion,
      docString: o.doc,
      graph: {
        name: o.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(o.metadata).map(([key, value]) => ({ key, value })),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function attribute(name: string, v: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if (typeof v === 'object') return { name, type: T.FLOATS, floats: v.floats };
  return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
}

function valueInfo(name: string, dims: Dim[], doc: string): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    docString: doc,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}
