// Named parameters, torch-style dotted names ("backbone.layer1.0.conv1.weight"), so that checkpoints and
// pretrained safetensors map one-to-one. Modules take a ParamStore scope and create their variables once.
import * as tf from '@tensorflow/tfjs';

interface Entry { variable: tf.Variable; trainable: boolean }
let nextId = 0; // TF.js variable names are process-global: keep them unique across stores

export class ParamStore {
  private constructor(private readonly map: Map<string, Entry>, readonly prefix: string) {}

  static create(): ParamStore {
    return new ParamStore(new Map(), '');
  }

  /** A view whose names are prefixed with `name.`; shares storage with this store. */
  scope(name: string): ParamStore {
    return new ParamStore(this.map, this.full(name) + '.');
  }

  private full(name: string): string {
    return this.prefix + name;
  }

  /** Creates a variable owning `init` (init is disposed). Names must be unique. */
  add(name: string, init: tf.Tensor, trainable = true): tf.Variable {
    const full = this.full(name);
    if (this.map.has(full)) {
      init.dispose();
      throw new Error(`parameter '${full}' already exists`);
    }
    const variable = tf.variable(init, trainable, `${full}#${nextId++}`);
    init.dispose();
    this.map.set(full, { variable, trainable });
    return variable;
  }

  get(name: string): tf.Variable {
    const e = this.map.get(this.full(name));
    if (!e) throw new Error(`no parameter '${this.full(name)}'`);
    return e.variable;
  }

  has(name: string): boolean {
    return this.map.has(this.full(name));
  }

  /** Entries under this scope, names relative to the root store, in creation order. */
  entries(opts: { trainableOnly?: boolean } = {}): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [];
    for (const [k, e] of this.map) {
      if (!k.startsWith(this.prefix)) continue;
      if (opts.trainableOnly && !e.trainable) continue;
      out.push([k, e.variable]);
    }
    return out;
  }

  isTrainable(fullName: string): boolean {
    return this.map.get(fullName)?.trainable ?? false;
  }

  /** Number of scalar parameters under this scope. */
  count(opts: { trainableOnly?: boolean } = {}): number {
    return this.entries(opts).reduce((a, [, v]) => a + v.size, 0);
  }

  /**
   * Assigns values by name (names relative to this scope). Shapes must match exactly.
   * Returns the names of this scope's parameters that received no value.
   */
  load(values: Map<string, { shape: number[]; data: Float32Array | Int32Array }>, opts: { strict?: boolean; where?: string } = {}): string[] {
    const where = opts.where ? `${opts.where}: ` : '';
    for (const [name, t] of values) {
      const e = this.map.get(this.full(name));
      if (!e) {
        if (opts.strict) throw new Error(`${where}unexpected tensor '${name}'`);
        continue;
      }
      const want = e.variable.shape;
      if (want.length !== t.shape.length || want.some((d, i) => d !== t.shape[i])) {
        throw new Error(`${where}tensor '${name}' has shape [${t.shape}] but the model expects [${want}]`);
      }
      const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
      tf.tidy(() => e.variable.assign(tf.tensor(data, want, e.variable.dtype)));
    }
    const missing = this.entries().map(([k]) => k.slice(this.prefix.length)).filter((k) => !values.has(k));
    if (opts.strict && missing.length) throw new Error(`${where}missing tensor '${missing[0]}' (${missing.length} missing)`);
    return missing;
  }

  /** Disposes every variable under this scope. */
  dispose(): void {
    for (const [k, e] of [...this.map]) {
      if (!k.startsWith(this.prefix)) continue;
      e.variable.dispose();
      this.map.delete(k);
    }
  }
}
