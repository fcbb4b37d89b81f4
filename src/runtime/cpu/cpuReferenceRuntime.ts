/**
 * The CPU reference runtime: interprets the model graph op by op over all T time steps, exactly
 * as the official code computes it (no folding, no fusion). It is the spec for the other backends.
 */
import type { ModelGraph, Op } from '../../model/graph.ts';
import type { FrameRequest, FrameResult, LayerSpikes } from '../types.ts';
import type { ModelWeights } from '../../model/weights.ts';
import { add, batchNorm, conv2d, lif, linear, spatialMean, spikeAttention, timeMean, upsample } from './ops.ts';

export interface CpuFrameRequest extends FrameRequest {
  /** Also return every value of the graph (all T steps), for layer-by-layer comparisons. */
  keepValues?: boolean;
  /** Neuron layers whose membrane potential (before reset, per step) to return. */
  membranes?: string[];
}

export interface CpuFrameResult extends FrameResult {
  /** Every value of the graph, one Float32Array per time step (only with `keepValues`). */
  values: Map<string, Float32Array[]>;
  /** Membrane potentials of the requested layers, `[T, C, H, W]` flattened. */
  membranes: Map<string, Float32Array>;
  /** Task-head outputs by name (empty without task heads). */
  outputs: Map<string, Float32Array>;
}

export class CpuReferenceRuntime {
  /** Index of the last op that reads each value, so values can be dropped once dead. */
  private readonly lastUse = new Map<string, number>();

  constructor(readonly graph: ModelGraph, private readonly weights: ModelWeights) {
    graph.ops.forEach((op, i) => op.inputs.forEach((id) => this.lastUse.set(id, i)));
    for (const op of graph.ops) {
      for (const p of op.params) {
        if (p.used && !weights.has(p.key)) throw new Error(`CpuReferenceRuntime: weight ${p.key} is missing`);
      }
    }
  }

  private weight(key: string): Float32Array {
    const w = this.weights.get(key);
    if (!w) throw new Error(`weight ${key} is missing`);
    return w;
  }

  /** Runs one image, `input` being the normalized `[C, H, W]` map at the graph's input size. */
  run(input: Float32Array, request: CpuFrameRequest = {}): CpuFrameResult {
    const { graph } = this;
    const T = graph.config.timeSteps;
    const inShape = graph.shapes.get(graph.input)!;
    if (input.length !== inShape[0] * inShape[1] * inShape[2]) {
      throw new Error(`input has ${input.length} values; the model expects [${inShape}]`);
    }
    const values = new Map<string, Float32Array[]>();
    values.set(graph.input, Array.from({ length: T }, () => input));
    const layers: LayerSpikes[] = [];
    const spikeMaps = new Map<string, Uint8Array>();
    const membranes = new Map<string, Float32Array>();
    const wantMap = (name: string) => request.spikeMaps === 'all' || (request.spikeMaps?.includes(name) ?? false);
    const outputs = new Map<string, Float32Array>();

    for (const [index, op] of graph.ops.entries()) {
      const inputs = op.inputs.map((id) => values.get(id)!);
      if (op.kind === 'lif') {
        const keep = request.membranes?.includes(op.name) ?? false;
        const { spikes, membrane } = lif(inputs[0], op.threshold, keep);
        const n = spikes[0].length;
        layers.push({ name: op.name, neuronsPerStep: n, onesPerStep: spikes.map((s) => s.reduce((a, b) => a + b, 0)) });
        if (wantMap(op.name)) spikeMaps.set(op.name, concat(spikes, Uint8Array));
        if (membrane) membranes.set(op.name, concat(membrane, Float32Array));
        values.set(op.output, spikes.map((s) => Float32Array.from(s)));
      } else if (op.kind === 'output') {
        const y = timeMean(inputs);
        outputs.set(op.output, y);
        values.set(op.output, [y]);
      } else {
        values.set(op.output, inputs[0].map((_, t) => this.step(op, inputs.map((x) => x[t]))));
      }
      if (!request.keepValues) {
        for (const id of op.inputs) if (id !== graph.input && this.lastUse.get(id) === index) values.delete(id);
      }
    }
    const logits = outputs.get(graph.output)!;
    outputs.delete(graph.output);
    return { logits, layers, spikeMaps, membranes, outputs, values: request.keepValues ? values : new Map() };
  }

  /** One op, one time step (every op but `lif` and `output`). */
  private step(op: Op, x: Float32Array[]): Float32Array {
    const [c, h, w] = this.graph.shapes.get(op.inputs[0])!;
    switch (op.kind) {
      case 'conv':
        return conv2d(x[0], h, w, this.weight(op.weight), op.bias ? this.weight(op.bias) : null, op).data;
      case 'batchnorm':
        return batchNorm(x[0], c, h, w, {
          weight: this.weight(`${op.prefix}.weight`),
          bias: this.weight(`${op.prefix}.bias`),
          runningMean: this.weight(`${op.prefix}.running_mean`),
          runningVar: this.weight(`${op.prefix}.running_var`),
          eps: op.eps,
        }, op.pad);
      case 'add':
        return add(x[0], x[1]);
      case 'attention':
        return spikeAttention(x[0], x[1], x[2], c, h * w, op.heads, op.scale);
      case 'spatialMean':
        return spatialMean(x[0], c, h * w);
      case 'linear':
        return linear(x[0], this.weight(op.weight), this.weight(op.bias), op.outFeatures);
      case 'upsample':
        return upsample(x[0], c, h, w, op.mode);
      default:
        throw new Error(`CpuReferenceRuntime: op ${op.kind} is not a per-step op`);
    }
  }
}

function concat<A extends Uint8Array | Float32Array>(parts: A[], Ctor: new (n: number) => A): A {
  const n = parts[0].length;
  const out = new Ctor(n * parts.length);
  parts.forEach((p, t) => out.set(p, t * n));
  return out;
}
