/**
 * Runs an exported Meta-SpikeFormer (`export/onnx.ts`) with ONNX Runtime and returns the
 * backend-neutral `FrameResult`: logits and every neuron layer's spike count per step (read from
 * the model's `spikes/<layer>` outputs). Full spike maps only come from a model exported with
 * `spikeMaps: true` (which makes every map a graph output; tests use it); the CLI's models have
 * counts only.
 *
 * Runtime-neutral: the caller passes the ONNX Runtime module, so the same class serves
 * onnxruntime-web in a browser (`wasm`, `webgpu`), onnxruntime-web's wasm build in Node, and
 * onnxruntime-node. In a browser, set `ort.env.wasm.wasmPaths` to where `onnxruntime-web/dist` is
 * served before creating a session; in Node, onnxruntime-web finds its wasm next to its own module.
 *
 * Graph optimizations: level 'all', minus the rules that fold a BatchNorm into the conv before it
 * (ConvBNFusion, ConvMulFusion, ConvAddFusion; the export writes BN as Mul/Add, which the latter two
 * would fold from the basic level on). Folding re-rounds every BN output, and a neuron within an
 * ulp of its threshold then flips; at T = 4 one flip can cascade through the attention blocks.
 * Measured against the CPU reference on 15M-size models (random weights, 11.6M neurons per run),
 * onnxruntime-web wasm:
 *   - 224² T=1: 'disabled' 0 spikes differ, 'all' 146,829, 'all' without folding 0;
 *   - 112² T=4: 'disabled' 116,462, 'all' 176,925, 'all' without folding 116,462 (two source
 *     flips at |h − θ| ≤ 2e-6 from ORT's float32 conv sums vs the reference's float64 ones, then
 *     the cascade; the same at every level, top-1 unchanged);
 *   - and 'all' without folding ran 2–4× faster than 'disabled'.
 * So without folding, 'all' gives exactly the spikes of 'disabled' at the speed of 'all'. On the
 * reference models every variant is bit-exact (tests/export).
 */
import type * as Ort from 'onnxruntime-web';
import { lifOps, type ModelGraph } from '../../model/graph.ts';
import { ONNX_INPUT, ONNX_LOGITS, spikeCountOutput } from '../../export/onnx.ts';
import type { FrameRequest, FrameResult, LayerSpikes } from '../types.ts';

/** The parts of an ONNX Runtime JS module (onnxruntime-web or onnxruntime-node) this uses. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: Ort.InferenceSession.SessionOptions): Promise<Ort.InferenceSession> };
  Tensor: typeof Ort.Tensor;
}

export type OnnxExecutionProvider = 'wasm' | 'webgpu' | 'cpu';

export type GraphOptimizationLevel = NonNullable<Ort.InferenceSession.SessionOptions['graphOptimizationLevel']>;

export const DEFAULT_GRAPH_OPTIMIZATION_LEVEL: GraphOptimizationLevel = 'all';

/** ONNX Runtime rules that fold a BatchNorm (or the Mul/Add the export writes for it) into a conv. */
export const BN_FOLDING_OPTIMIZERS = ['ConvBNFusion', 'ConvMulFusion', 'ConvAddFusion'] as const;

/** The session options the backend uses (also for callers that create sessions themselves). */
export function onnxSessionOptions(options: OnnxBackendOptions): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [options.executionProvider],
    graphOptimizationLevel: options.graphOptimizationLevel ?? DEFAULT_GRAPH_OPTIMIZATION_LEVEL,
    // Session config entry `optimization.disable_specified_optimizers` (';'-separated rule names).
    extra: options.foldBatchNorm ? {} : { optimization: { disable_specified_optimizers: BN_FOLDING_OPTIMIZERS.join(';') } },
  };
}

export interface OnnxBackendOptions {
  /** The one execution provider to run on (no silent fallback list): `cpu` is onnxruntime-node's. */
  executionProvider: OnnxExecutionProvider;
  /** Default 'all'. */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /** Let ONNX Runtime fold BatchNorms into convs (default false: it re-rounds pre-activations). */
  foldBatchNorm?: boolean;
  /** What to report as `backendUsed` (default `onnx-<provider>`). */
  label?: string;
}

export class OnnxRuntimeBackend {
  private readonly layers: { name: string; output: string; neuronsPerStep: number }[];
  /** Task-head outputs of the graph (`seg_logits`, …), same names in the ONNX model. */
  private readonly headOutputs: string[];
  /** The model outputs every spike map (exported with `spikeMaps: true`). */
  readonly hasSpikeMaps: boolean;

  private constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    readonly graph: ModelGraph,
    /** The provider that ran, e.g. `onnx-wasm`. */
    readonly backendUsed: string,
  ) {
    this.layers = lifOps(graph).map((op) => {
      const [c, h, w] = graph.shapes.get(op.output)!;
      return { name: op.name, output: spikeCountOutput(op.name), neuronsPerStep: c * h * w };
    });
    this.headOutputs = Object.entries(graph.outputs).filter(([k]) => k !== 'logits').map(([, v]) => v);
    const missing = [ONNX_LOGITS, ...this.headOutputs, ...this.layers.map((l) => l.output)].filter((o) => !session.outputNames.includes(o));
    if (!session.inputNames.includes(ONNX_INPUT) || missing.length > 0) {
      throw new Error(`the ONNX model does not match the graph: ${missing.length ? `no output ${missing[0]}` : `no input ${ONNX_INPUT}`}`);
    }
    this.hasSpikeMaps = this.layers.every((l) => session.outputNames.includes(l.name));
  }

  /** Creates a session on the exported model bytes for `graph` (same config, input size and T). */
  static async create(ort: OrtModule, model: Uint8Array, graph: ModelGraph, options: OnnxBackendOptions): Promise<OnnxRuntimeBackend> {
    const session = await ort.InferenceSession.create(model, onnxSessionOptions(options));
    try {
      return new OnnxRuntimeBackend(ort, session, graph, options.label ?? `onnx-${options.executionProvider}`);
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  /** Runs one image: `input` is the normalized `[C, H, W]` map at the graph's input size. */
  async run(input: Float32Array, request: FrameRequest = {}): Promise<FrameResult> {
    const { graph } = this;
    const wanted = request.spikeMaps === 'all' ? this.layers.map((l) => l.name) : request.spikeMaps ?? [];
    if (wanted.length > 0 && !this.hasSpikeMaps) {
      throw new Error('this ONNX model returns spike counts only; spike maps need the cpu or webgpu backend (or an export with spikeMaps)');
    }
    const unknown = wanted.find((name) => !this.layers.some((l) => l.name === name));
    if (unknown) throw new Error(`no neuron layer ${unknown}`);
    const [c, h, w] = graph.shapes.get(graph.input)!;
    if (input.length !== c * h * w) throw new Error(`input has ${input.length} values; the model expects [${c},${h},${w}]`);
    const feed = new this.ort.Tensor('float32', input, [1, c, h, w]);
    const out = await this.session.run({ [ONNX_INPUT]: feed });
    const logits = Float32Array.from(out[ONNX_LOGITS].data as Float32Array);
    const layers: LayerSpikes[] = this.layers.map((l) => ({
      name: l.name,
      neuronsPerStep: l.neuronsPerStep,
      onesPerStep: Array.from(out[l.output].data as Float32Array),
    }));
    const spikeMaps = new Map<string, Uint8Array>();
    for (const name of wanted) spikeMaps.set(name, Uint8Array.from(out[name].data as Float32Array));
    const outputs = new Map<string, Float32Array>();
    for (const name of this.headOutputs) outputs.set(name, Float32Array.from(out[name].data as Float32Array));
    for (const t of Object.values(out)) t.dispose();
    return { logits, layers, spikeMaps, outputs };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Threads to give ONNX Runtime's wasm backend: half the cores (rounded up) up to 4 where
 * SharedArrayBuffer is allowed (a cross-origin-isolated page), else 1. The app and the benchmark
 * both use it.
 *
 * Why half, not one per core: the other cores are busy too (the page's main thread, the browser's
 * GPU process and camera, other tabs), and ORT's pool threads wait on each other, so a thread per
 * core loses where cores are few. On this project's 2-core machines (under load from other work,
 * 64×64 digits model, T = 2, median ms/frame) one thread beat two in 8 of 10 interleaved pairs
 * (the median of those ≈ 76 against ≈ 106 ms) and in 3 of 3 at 128×128 (1000 classes, T = 1). ORT's
 * own default is the same rule (`env.wasm.numThreads` unset: min(4, ⌈cores / 2⌉)).
 */
export function wantedThreads(isolated: boolean, cores: number | undefined): number {
  return isolated ? Math.max(1, Math.min(4, Math.ceil((cores ?? 1) / 2))) : 1;
}
