// tf.variableGrads with a backward pass that frees memory as it goes. TF.js keeps every activation gradient (dy)
// and every tensor saved for backward until the whole backward pass ends, so its peak is the saved activations
// plus all of their gradients. Here a node's dys and saved tensors are freed as soon as its gradient has been
// computed (as PyTorch does), which keeps the r50 training step inside wasm's 4 GB heap. Same values as
// tf.variableGrads: the same gradient functions run in the same order; only the disposal differs.
import * as tf from '@tensorflow/tfjs';

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  startTape(): void;
  endTape(): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
}

/** The tape nodes on a path from one of xs to y, their inputs pruned to those that depend on xs (as tfjs does). */
function nodesFromXsToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodeFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      for (const o of node.outputs) fromX.add(o.id);
      nodeFromX.add(node.id);
    }
  }
  const leadsToY = new Set<number>([y.id]);
  const nodeToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((o) => leadsToY.has(o.id))) {
      for (const t of Object.values(node.inputs)) leadsToY.add(t.id);
      nodeToY.add(node.id);
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!nodeFromX.has(node.id) || !nodeToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(node.inputs)) if (fromX.has(t.id)) inputs[name] = t;
    out.push({ ...node, inputs });
  }
  return out;
}

/**
 * Like tf.variableGrads(f, varList): the value of f (a scalar) and its gradient for each trainable variable that
 * it depends on, keyed by variable name. The caller disposes value and grads.
 */
export function variableGrads(f: () => tf.Scalar, varList?: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const engine = tf.engine() as unknown as EngineInternals;
  const vars = (varList ?? Object.values(tf.engine().registeredVariables)).filter((v) => v.trainable);
  if (vars.length === 0) throw new Error('variableGrads: no trainable variables');
  if (engine.state.gradientDepth !== 0) throw new Error('variableGrads: nested gradients are not supported');
  const y = engine.scopedRun(() => engine.startTape(), () => engine.endTape(), () => engine.tidy('forward', f));
  const tape = engine.state.activeTape!;
  engine.state.activeTape = null;
  if (!(y instanceof tf.Tensor) || y.rank !== 0) {
    for (const node of tape) for (const t of node.saved ?? []) t.dispose();
    tf.dispose(y as tf.TensorContainer);
    throw new Error('variableGrads: f must return a scalar tensor');
  }
  const nodes = nodesFromXsToY(tape, vars, y);
  const onPath = new Set(nodes.map((n) => n.id));
  for (const node of tape) if (!onPath.has(node.id)) for (const t of node.saved ?? []) t.dispose();

  const grads = tf.tidy(() => {
    // Accumulated gradient per tensor id; one tensor object may sit under several ids (a gradient function can
    // pass dy through, or return one tensor for two inputs), so tensor objects are reference-counted.
    const acc = new Map<number, tf.Tensor>();
    const refs = new Map<tf.Tensor, number>();
    const put = (id: number, t: tf.Tensor): void => {
      acc.set(id, t);
      refs.set(t, (refs.get(t) ?? 0) + 1);
    };
    const take = (id: number): tf.Tensor | undefined => {
      const t = acc.get(id);
      if (!t) return undefined;
      acc.delete(id);
      const n = refs.get(t)! - 1;
      if (n > 0) refs.set(t, n);
      else refs.delete(t);
      return t;
    };
    put(y.id, tf.onesLike(y));
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i]!;
      if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
      const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
      const dxs = tf.tidy(() => {
        const fns = node.gradient!(dys);
        const res: Record<string, tf.Tensor> = {};
        for (const name of Object.keys(node.inputs)) {
          if (!(name in fns)) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(fns)}.`);
          res[name] = fns[name]!();
        }
        return res;
      });
      const done = new Set<tf.Tensor>(); // candidates to free once nothing refers to them
      for (const o of node.outputs) {
        const dy = take(o.id);
        if (dy) done.add(dy);
      }
      for (const [name, dx] of Object.entries(dxs)) {
        const x = node.inputs[name]!;
        if (dx.dtype !== 'float32') throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
        if (!tf.util.arraysEqual(dx.shape, x.shape)) throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`);
        const prev = take(x.id);
        if (prev) {
          put(x.id, tf.add(prev, dx));
          done.add(prev);
          done.add(dx);
        } else {
          put(x.id, dx);
        }
      }
      for (const t of done) if (!refs.has(t)) t.dispose();
      for (const t of node.saved ?? []) t.dispose();
    }
    const out: tf.NamedTensorMap = {};
    for (const v of vars) {
      const g = acc.get(v.id);
      if (g) out[v.name] = g;
    }
    return out;
  });
  return { value: y as tf.Scalar, grads };
}
