// TorchBackend: a TF.js KernelBackend whose dataIds map to tensors held by the libtorch addon.
// Data written from JS stays a typed array until a kernel first needs it natively.
import * as tf from '@tensorflow/tfjs';
import type { TorchAddon } from './addon.ts';

type BackendValues = Float32Array | Int32Array | Uint8Array | Uint8Array[];
interface TorchData {
  values?: BackendValues; // set by write/move until the native tensor is created
  nativeId?: number;
  shape: number[];
  dtype: tf.DataType;
  refCount: number;
}

export class TorchBackend extends tf.KernelBackend {
  readonly data: tf.DataStorage<TorchData>;
  constructor(readonly addon: TorchAddon) {
    super();
    this.data = new tf.DataStorage(this, tf.engine());
  }
  override write(values: BackendValues, shape: number[], dtype: tf.DataType): object {
    const dataId = {};
    this.data.set(dataId, { values, shape, dtype, refCount: 1 });
    return dataId;
  }
  override move(dataId: object, values: BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    this.data.set(dataId, { values, shape, dtype, refCount });
  }
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: BackendValues): tf.TensorInfo {
    const dataId = this.write(values ?? tf.util.getTypedArrayFromDType(dtype as 'float32', tf.util.sizeFromShape(shape)), shape, dtype);
    return { dataId, shape, dtype };
  }
  /** Wraps a native tensor id as a new TensorInfo owned by this backend. */
  fromNative(nativeId: number, shape: number[], dtype: tf.DataType): tf.TensorInfo {
    const dataId = {};
    this.data.set(dataId, { nativeId, shape, dtype, refCount: 1 });
    return { dataId, shape, dtype };
  }
  /** Native id for a tensor, creating the native copy on first kernel use. */
  nativeOf(t: tf.TensorInfo): number {
    const d = this.data.get(t.dataId);
    if (d.nativeId === undefined) {
      const v = d.values;
      let arr: Float32Array | Int32Array | Uint8Array;
      if (v instanceof Float32Array || v instanceof Int32Array) arr = v;
      else if (v instanceof Uint8Array) arr = d.dtype === 'bool' ? v : Int32Array.from(v);
      else if (v === undefined) arr = tf.util.getTypedArrayFromDType(d.dtype as 'float32', tf.util.sizeFromShape(d.shape)) as Float32Array;
      else throw new Error(`torch backend: dtype ${d.dtype} is not supported`);
      if (d.dtype === 'bool' && !(arr instanceof Uint8Array)) arr = Uint8Array.from(arr, (x) => (x ? 1 : 0));
      d.nativeId = this.addon.create(arr, d.shape);
      d.values = undefined; // single source of truth: the native tensor
    }
    return d.nativeId;
  }
  override refCount(dataId: object): number {
    return this.data.has(dataId) ? this.data.get(dataId).refCount : 0;
  }
  override incRef(dataId: object): void {
    this.data.get(dataId).refCount++;
  }
  decRef(dataId: object): void {
    if (this.data.has(dataId)) this.data.get(dataId).refCount--;
  }
  override numDataIds(): number {
    return this.data.numDataIds();
  }
  override readSync(dataId: object): BackendValues {
    const d = this.data.get(dataId);
    if (d.values !== undefined) return d.values;
    if (d.nativeId === undefined) return tf.util.getTypedArrayFromDType(d.dtype as 'float32', 0);
    return this.addon.read(d.nativeId);
  }
  override read(dataId: object): Promise<BackendValues> {
    return Promise.resolve(this.readSync(dataId));
  }
  override disposeData(dataId: object, force = false): boolean {
    if (!this.data.has(dataId)) return true;
    const d = this.data.get(dataId);
    if (!force) {
      d.refCount--;
      if (d.refCount > 0) return false;
    }
    if (d.nativeId !== undefined) this.addon.dispose(d.nativeId);
    this.data.delete(dataId);
    return true;
  }
  override memory(): { unreliable: boolean; numNativeTensors: number; nativeBytes: number } {
    return { unreliable: false, numNativeTensors: this.addon.count(), nativeBytes: this.addon.bytes() };
  }
  override async time(f: () => void): Promise<tf.BackendTimingInfo> {
    const start = performance.now();
    f();
    return { kernelMs: performance.now() - start };
  }
  override floatPrecision(): 16 | 32 {
    return 32;
  }
  override epsilon(): number {
    return 1e-7;
  }
  override dispose(): void {
    // Tensors are released through disposeData; the addon store lives for the process.
  }
}
