// `detclip model info --preset NAME`: parameter counts per part and forward MACs/FLOPs at the preset's resolution.
import type { Command } from 'commander';
import { startBackend, globalOpts, UserError } from '../userError.ts';
import { MODEL_PRESET_NAMES, modelPresetName, resolveModelConfig, type ModelConfig } from '../../config/model.ts';
import { ParamStore } from '../../model/params.ts';
import { ImageEncoder } from '../../model/imageEncoder.ts';
import { mlpWidthOf } from '../../model/text/config.ts';
import { textParamSpecs } from '../../model/text/textParams.ts';

export interface ModelInfo {
  preset: string;
  input: { height: number; width: number };
  params: { backbone: number; neck: number; head: number; text: number; total: number };
  /** Of the image parameters: BN running statistics (buffers) and trainable counts. */
  buffers: number;
  trainable: number;
  /** Forward multiply-accumulates per image (FLOPs = 2 × MACs). Norms, activations, softmax not counted. */
  macs: { backbone: number; neck: number; head: number; image: number; textPerConcept: number };
  anchors: { total: number; strides: number[]; sizes: [number, number][] };
}

/** Text tower MACs for one concept: per layer qkv, out-proj, MLP on `ctx` tokens plus q·kᵀ and attn·v; then the projection. */
export function textMacsPerConcept(t: ModelConfig['text']): number {
  const w = t.width;
  const m = mlpWidthOf(t);
  const ctx = t.contextLength;
  return t.layers * (ctx * (3 * w * w + w * w + 2 * w * m) + 2 * ctx * ctx * w) + w * t.outputDim;
}

/** Builds the image encoder (values don't matter: a constant generator keeps it fast) and counts. */
export function modelInfo(preset: string, cfg: ModelConfig): ModelInfo {
  const store = ParamStore.create();
  try {
    const constantRng = { normal: () => 0, next: () => 0.5 };
    const enc = new ImageEncoder(store, cfg, constantRng);
    const { height: h, width: w } = cfg.input;
    const part = (p: string): number => store.scope(p).count();
    const text = textParamSpecs(cfg.text).reduce((a, s) => a + s.shape.reduce((x, d) => x * d, 1), 0);
    const params = { backbone: part('backbone'), neck: part('neck'), head: part('head'), text, total: 0 };
    params.total = params.backbone + params.neck + params.head + text;
    const buffers = store.entries().filter(([n]) => /running_(mean|var)$/.test(n)).reduce((a, [, v]) => a + v.size, 0);
    const trainable = store.count({ trainableOnly: true });
    const m = enc.macs(h, w);
    const { anchors, sizes } = enc.anchorsFor(h, w);
    return {
      preset, input: cfg.input, params, buffers, trainable,
      macs: { ...m, image: m.backbone + m.neck + m.head, textPerConcept: textMacsPerConcept(cfg.text) },
      anchors: { total: anchors.strides.length, strides: enc.neck.strides, sizes },
    };
  } finally {
    store.dispose();
  }
}

const fmtInt = (n: number): string => n.toLocaleString('en-US');
const g = (macs: number): string => `${(macs / 1e9).toFixed(2)} GMACs (${((2 * macs) / 1e9).toFixed(2)} GFLOPs)`;

export function formatModelInfo(info: ModelInfo, cfg: ModelConfig): string {
  const b = cfg.backbone;
  const desc = b.type === 'resnet' ? `ResNet ${b.block} [${b.depths}]` : b.type === 'swin' ? `Swin C=${b.embedDim} depths [${b.depths}]` : `tiny conv-GN [${b.channels}]`;
  const p = info.params;
  const pad = (s: string): string => s.padEnd(10);
  const row = (name: string, n: number): string => `  ${pad(name)}${fmtInt(n).padStart(14)}`;
  return [
    `preset ${info.preset}: ${desc}, FPN ${cfg.fpn.outChannels}ch strides [${info.anchors.strides}], ATSS head ${cfg.head.towerConvs} convs/tower, DCN ${cfg.head.useDcn ? 'on' : 'off'}, D=${cfg.head.embedDim}`,
    `text: ${cfg.text.layers} layers, width ${cfg.text.width}, ${cfg.text.heads} heads, context ${cfg.text.contextLength}, ${cfg.text.activation}`,
    'parameters:',
    row('backbone', p.backbone) + (info.buffers ? `  (incl. ${fmtInt(info.buffers)} BN running stats)` : ''),
    row('neck', p.neck),
    row('head', p.head),
    row('text', p.text),
    row('total', p.total),
    `  image parameters trainable: ${fmtInt(info.trainable)}`,
    `forward at ${info.input.height}x${info.input.width}, per image (FLOPs = 2 x MACs; convs, linears, attention matmuls, DCN sampling):`,
    `  ${pad('backbone')}${g(info.macs.backbone)}`,
    `  ${pad('neck')}${g(info.macs.neck)}`,
    `  ${pad('head')}${g(info.macs.head)}`,
    `  ${pad('image')}${g(info.macs.image)}`,
    `  ${pad('text')}${(info.macs.textPerConcept / 1e6).toFixed(2)} MMACs per concept`,
    `anchors: K = ${fmtInt(info.anchors.total)} over levels ${info.anchors.sizes.map(([h, w]) => `${h}x${w}`).join(', ')}`,
  ].join('\n');
}

export function registerModel(program: Command): void {
  const model = program.command('model').description('model presets: sizes and costs');
  model.command('info')
    .description('print parameter counts per part and forward FLOPs at the preset resolution')
    .option('--preset <name>', `model preset (${MODEL_PRESET_NAMES.join(', ')})`, 'tiny')
    .option('--height <px>', 'input height (default: the preset\'s)')
    .option('--width <px>', 'input width (default: the preset\'s)')
    .option('--json', 'print JSON instead of text')
    .action(async (opts: { preset: string; height?: string; width?: string; json?: boolean }, cmd: Command) => {
      await startBackend(cmd);
      const input: Record<string, number> = {};
      for (const k of ['height', 'width'] as const) {
        if (opts[k] === undefined) continue;
        const v = Number(opts[k]);
        if (!Number.isInteger(v) || v < 32) throw new UserError(`--${k} must be an integer >= 32, got '${opts[k]}'`);
        input[k] = v;
      }
      const cfg = resolveModelConfig(opts.preset, { input });
      const info = modelInfo(modelPresetName(opts.preset), cfg);
      process.stdout.write(opts.json ? `${JSON.stringify(info, null, 2)}\n` : `${formatModelInfo(info, cfg)}\n`);
    });
}
