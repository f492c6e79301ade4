// A small ONNX graph builder over onnx-proto's generated types: named inputs/outputs (with symbolic dims),
// initializers (float32 / int64 / int32) and nodes with typed attributes, serialised to ModelProto bytes.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

/** Element types used by our graphs. */
export type ElemType = 'float32' | 'int64' | 'int32';
const ELEM: Record<ElemType, number> = { float32: DT.FLOAT, int64: DT.INT64, int32: DT.INT32 };

/** An attribute value: number arrays are INTS unless they hold a non-integer (FLOATS); use {f} for one float. */
export type AttrValue = number | string | number[] | { f: number } | { floats: number[] };

/** A dim: a fixed size or a symbolic name ('B', 'H', ...). */
export type Dim = number | string;

// ONNX IR version 9 (onnx 1.14+) reads opset 19; onnx-proto 8.0.1 predates it but the fields we write are unchanged.
export const IR_VERSION = 9;

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: AT.INT, i: v } : { name, type: AT.FLOAT, f: v };
  if (Array.isArray(v)) return v.every(Number.isInteger) ? { name, type: AT.INTS, ints: v } : { name, type: AT.FLOATS, floats: v };
  if ('f' in v) return { name, type: AT.FLOAT, f: v.f };
  return { name, type: AT.FLOATS, floats: v.floats };
}

function valueInfo(name: string, type: ElemType, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: ELEM[type], shape: { dim } } } };
}

function bytesOf(data: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(); // little-endian, as ONNX raw_data
}

export class OnnxGraph {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inits: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** A fresh value name with a readable stem. */
  fresh(stem: string): string {
    let n = `${stem}_${this.counter++}`;
    while (this.used.has(n)) n = `${stem}_${this.counter++}`;
    this.used.add(n);
    return n;
  }

  input(name: string, type: ElemType, dims: Dim[]): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares `value` a graph output named `name` (an Identity renames it when the names differ). */
  output(value: string, name: string, type: ElemType, dims: Dim[]): void {
    if (value !== name) {
      this.used.add(name);
      this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `out_${name}` });
    }
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A float32 initializer [dims]. */
  constF(stem: string, data: Float32Array | number[], dims: number[]): string {
    return this.init(stem, 'float32', data instanceof Float32Array ? data : Float32Array.from(data), dims);
  }

  /** An int64 initializer [dims] (shapes, axes, indices). */
  constI64(stem: string, data: number[], dims: number[] = [data.length]): string {
    return this.init(stem, 'int64', BigInt64Array.from(data.map((v) => BigInt(v))), dims);
  }

  private init(stem: string, type: ElemType, data: Float32Array | Int32Array | BigInt64Array, dims: number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new Error(`onnx initializer ${stem}: ${data.length} values for dims [${dims}]`);
    const name = this.fresh(stem);
    this.inits.push({ name, dataType: ELEM[type], dims, rawData: bytesOf(data) });
    return name;
  }

  /** Adds a node; returns its output names (nOut of them). '' in inputs marks an omitted optional input. */
  nodeN(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, nOut = 1, stem = op.toLowerCase()): string[] {
    const out = Array.from({ length: nOut }, () => this.fresh(stem));
    this.nodes.push({
      opType: op, input: inputs, output: out, name: `${stem}_n${this.nodes.length}`,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  /** A single-output node. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, stem?: string): string {
    return this.nodeN(op, inputs, attrs, 1, stem)[0]!;
  }

  get nodeCount(): number { return this.nodes.length; }

  /** The serialised ModelProto (default domain at `opset`). */
  toBytes(opset: number, docString = ''): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'detclip',
      docString,
      opsetImport: [{ domain: '', version: opset }],
      graph: { name: this.name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
