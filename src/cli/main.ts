/**
 * The `spikeformer` command line: convert, info, export-onnx, infer. Any bad input ends with exit code 1 and
 * one line saying what is wrong (no stack trace; set SPIKEFORMER_DEBUG=1 to see one).
 */
import { mkdir, rename, rm, stat, writeFile, open } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { openFileSource, type NodeFileSource } from '../io/nodeFileSource.ts';
import { publishedSizeName } from '../model/config.ts';
import { buildModelGraph, countLearnableParameters, lifOps } from '../model/graph.ts';
import { exportOnnx, ONNX_OPSET } from '../export/onnx.ts';
import { modelWeightsFromTensors } from '../model/weights.ts';
import { convertToSafetensors } from '../model/convertToSafetensors.ts';
import { loadModel, type LoadedModel } from '../model/loadModel.ts';
import { classifyAnswer, classifyAnswerInfo, classifyLabels, noDigitIndex, noDigitThreshold } from '../model/classNames.ts';
import { frameFiles } from '../runtime/frameFiles.ts';
import { loadInput } from './input.ts';
import { classifyFolder, probabilities } from './classifyFolder.ts';
import { describeInputs, inputForTasks } from '../model/inputSpec.ts';
import { BACKENDS, backendHasSpikeMaps, runBackend, type BackendName } from './backends.ts';
import { CliError } from './cliError.ts';
import { parseTasks, taskChoice, TASK_CHOICES, writeTaskOutputs } from './taskOutputs.ts';
import { spikeSummary } from './spikeSummary.ts';
import { configForTasks, type ModelConfig } from '../model/config.ts';

const USAGE = `usage:
  spikeformer convert <in.pth|in.safetensors> -o <out.safetensors> [--time-steps T] [--fp16]
  spikeformer info <file>
  spikeformer export-onnx <in.pth|in.safetensors> -o <out.onnx> [--time-steps T] [--size HxW]
  spikeformer infer --weights <file> --input <input.npy|image.png|image.jpg|folder> --out <dir>
                    [--task ${TASK_CHOICES.join('|')}] [--backend ${Object.keys(BACKENDS).join('|')}]
                    [--time-steps T] [--size HxW] [--dump-spikes] [--save-logits]
      An image is cut as the model file declares for the task (e.g. its centre square resized
      to 64x64), else by the official ImageNet crop (detection and segmentation: its own size);
      --size HxW resizes it straight to that size instead.
      --task detect writes <out>/boxes.json, --task segment <out>/mask.png (with --save-logits
      also the raw head maps as .npy).
      --input <folder> classifies every .png/.jpg in it: <out>/predictions.jsonl, one line each.`;

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, positionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: positionals > 0, strict: true });
  } catch (e) {
    throw new CliError(`${(e as Error).message.split('\n')[0]}; see spikeformer --help`);
  }
  if (parsed.positionals.length > positionals) throw new CliError(`unexpected argument ${parsed.positionals[positionals]}`);
  return parsed;
}

function positiveInt(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${what} must be a positive integer, got "${value}"`);
  return n;
}

export function parseSize(value: string | undefined): [number, number] | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)x(\d+)$/.exec(value);
  if (!m) throw new CliError(`--size must look like 224x224 (height x width), got "${value}"`);
  const size: [number, number] = [Number(m[1]), Number(m[2])];
  if (size.some((d) => d < 16 || d % 16 !== 0)) throw new CliError(`--size ${value}: height and width must be multiples of 16`);
  return size;
}

async function withSource<T>(path: string, fn: (src: NodeFileSource) => Promise<T>): Promise<T> {
  let src: NodeFileSource;
  try {
    src = await openFileSource(path);
  } catch (e) {
    throw new CliError(`cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return await fn(src);
  } finally {
    await src.close();
  }
}

/** Progress on stderr for files over 32 MB, at most once per 5%. */
function progressReporter(label: string, size: number): ((done: number, total: number) => void) | undefined {
  if (size < 32 * 2 ** 20 || !process.stderr.isTTY && !process.env.SPIKEFORMER_PROGRESS) return undefined;
  let last = -1;
  return (done, total) => {
    const pct = Math.floor((100 * done) / Math.max(total, 1));
    if (pct >= last + 5 || done === total) {
      last = pct;
      process.stderr.write(`${label}: ${pct}%\n`);
    }
  };
}

/** Writes next to the target, then renames: nothing appears at `path` unless the whole file was written. */
async function writeViaTemp(path: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const out = resolve(path);
  const tmp = `${out}.partial-${process.pid}`;
  try {
    await mkdir(dirname(out), { recursive: true });
    const file = await open(tmp, 'w');
    try {
      for (const chunk of chunks) await file.write(chunk);
    } finally {
      await file.close();
    }
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new CliError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

async function convert(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    out: { type: 'string', short: 'o' },
    'time-steps': { type: 'string' },
    fp16: { type: 'boolean' },
  }, 1);
  const input = positionals[0];
  if (!input || !values.out) throw new CliError(`convert needs an input file and -o <out.safetensors>; see spikeformer --help`);
  const converted = await withSource(input, (src) => convertToSafetensors(src, {
    timeSteps: positiveInt(values['time-steps'], '--time-steps'),
    fp16: values.fp16,
    onProgress: progressReporter('reading', src.size),
  }));
  await writeViaTemp(values.out, converted.chunks);
  const c = converted.config;
  console.log(`wrote ${values.out}: ${converted.tensorCount} tensors, ${(converted.bytes / 2 ** 20).toFixed(1)} MiB, ` +
    `dims ${c.embedDims.join('/')}, ${c.numClasses} classes, T=${c.timeSteps}${c.kd ? ', kd head' : ''}${values.fp16 ? ', float16' : ''}`);
}

async function exportOnnxCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    out: { type: 'string', short: 'o' },
    'time-steps': { type: 'string' },
    size: { type: 'string' },
  }, 1);
  const input = positionals[0];
  if (!input || !values.out) throw new CliError(`export-onnx needs a weights file and -o <out.onnx>; see spikeformer --help`);
  const [height, width] = parseSize(values.size) ?? [224, 224];
  const timeSteps = positiveInt(values['time-steps'], '--time-steps');
  const model = await withSource(input, (src) => loadModel(src, { timeSteps, onProgress: progressReporter('reading', src.size) }));
  const graph = buildModelGraph(model.config, height, width);
  const onnx = exportOnnx(graph, modelWeightsFromTensors(model.tensors));
  await writeViaTemp(values.out, [onnx]);
  const c = model.config;
  console.log(`wrote ${values.out}: ONNX opset ${ONNX_OPSET}, ${(onnx.byteLength / 2 ** 20).toFixed(1)} MiB, input [1,${c.inChannels},${height},${width}], ` +
    `T=${c.timeSteps}, outputs logits [1,${c.numClasses}]${c.kd ? ' (head + head_kd)' : ''}` +
    Object.entries(graph.outputs).filter(([k]) => k !== 'logits').map(([, v]) => `, ${v} [1,${graph.shapes.get(v)}]`).join('') +
    ` and ${lifOps(graph).length} spike counts [${c.timeSteps}]`);
}

async function info(args: string[]): Promise<void> {
  const { positionals } = parse(args, {}, 1);
  if (!positionals[0]) throw new CliError(`info needs a file; see spikeformer --help`);
  const path = positionals[0];
  await withSource(path, async (src) => {
    const { config, tensors, checkpoint, inputs } = await loadModel(src, { onProgress: progressReporter('reading', src.size) });
    const params = countLearnableParameters(config);
    const dtypes = [...new Set([...tensors.values()].map((t) => t.dtype))].join(', ');
    const size = publishedSizeName(config.embedDims);
    const lines = [
      `file:        ${path} (${checkpoint.format}, ${(src.size / 2 ** 20).toFixed(1)} MiB)`,
      ...(checkpoint.removedPrefix ? [`names:       the prefix '${checkpoint.removedPrefix}' on every tensor name was removed`] : []),
      `model:       Meta-SpikeFormer${size ? ` ${size}` : ''}, embed dims ${config.embedDims.join(', ')}, ` +
        `depths ${config.depths.join('+')}, ${config.numHeads} heads, MLP ratio ${config.mlpRatio}`,
      `parameters:  ${params.toLocaleString('en-US')} learnable (${tensors.size} tensors)`,
      `classes:     ${config.numClasses}${config.labels ? ` (${config.labels})` : ''}${noDigitNote(checkpoint.metadata, config.numClasses)}`,
      `time steps:  ${config.timeSteps}`,
      `input:       ${describeInputs(inputs) ?? 'none declared: images get the official crop (shorter side 256, centre 224×224)'}`,
      `kd head:     ${config.kd ? 'yes (output = (head + head_kd) / 2)' : 'no'}`,
      `tasks:       ${describeTasks(config)}`,
      `dtype:       ${dtypes}`,
      `normalize:   mean ${config.mean.map((v) => v.toFixed(3)).join(', ')}, std ${config.std.map((v) => v.toFixed(3)).join(', ')}`,
    ];
    console.log(lines.join('\n'));
  });
}

/** `; answers "no digit" when …` for a model with that class, else ''. */
function noDigitNote(metadata: Record<string, string>, numClasses: number): string {
  const { classNames, noDigitBelow } = classifyAnswerInfo(metadata, numClasses);
  if (!classNames || noDigitIndex(classNames) < 0) return '';
  return `; answers "no digit" when that class is on top${noDigitBelow !== undefined ? ` or the top class is under ${noDigitBelow}` : ''}`;
}

function describeTasks(config: ModelConfig): string {
  const h = config.heads;
  const parts = [`classify (${config.numClasses} classes)`];
  if (h?.segment) parts.push(`segment (${h.segment.numClasses} classes: ${h.segment.classNames.slice(0, 4).join(', ')}${h.segment.numClasses > 4 ? ', …' : ''})`);
  if (h?.detect) parts.push(`detect (${h.detect.numClasses} classes, score ≥ ${(1 / (1 + Math.exp(-h.detect.decode.logitThreshold))).toFixed(2)})`);
  if (h) parts.push(`on a ${h.fpn.channels}-channel spiking FPN (strides ${h.fpn.levels.map((l) => l.stride).join('/')})`);
  return parts.join(', ');
}

async function infer(args: string[]): Promise<void> {
  const { values } = parse(args, {
    weights: { type: 'string' },
    input: { type: 'string' },
    out: { type: 'string' },
    backend: { type: 'string', default: 'cpu' },
    'time-steps': { type: 'string' },
    size: { type: 'string' },
    'dump-spikes': { type: 'boolean' },
    task: { type: 'string', default: 'classify' },
    'save-logits': { type: 'boolean' },
  }, 0);
  if (!values.weights || !values.input || !values.out) throw new CliError(`infer needs --weights, --input and --out; see spikeformer --help`);
  taskChoice(values.task); // an unknown task is refused before anything is read
  const backend = values.backend as BackendName;
  if (!(backend in BACKENDS)) throw new CliError(`unknown backend "${values.backend}": use one of ${Object.keys(BACKENDS).join(', ')}`);
  if (values['dump-spikes'] && !backendHasSpikeMaps(backend)) {
    throw new CliError(`--dump-spikes: the ${backend} backend returns spike counts only; spike maps need the cpu or webgpu backend`);
  }
  const size = parseSize(values.size);
  const timeSteps = positiveInt(values['time-steps'], '--time-steps');
  const loaded = await withSource(values.weights, (src) => loadModel(src, { timeSteps, onProgress: progressReporter('reading', src.size) }));
  const tasks = parseTasks(values.task, loaded.config);
  // Only the heads asked for are built: one backbone pass, then those heads.
  const model = { ...loaded, config: configForTasks(loaded.config, tasks) };
  const dense = tasks.some((t) => t !== 'classify');
  const declared = inputForTasks(loaded.inputs, tasks);
  if ((await stat(values.input).catch(() => null))?.isDirectory()) {
    if (dense || values['dump-spikes'] || values['save-logits']) {
      throw new CliError(`--input ${values.input} is a folder: it is classified image by image (predictions.jsonl); --task ${values.task}, --dump-spikes and --save-logits take one image`);
    }
    await mkdir(values.out, { recursive: true });
    console.log(await classifyFolder(values.input, values.out, model, backend, { size, declared }));
    return;
  }
  const input = await loadInput(values.input, model.config, size, { nativeSize: dense, declared });
  const dumpSpikes = values['dump-spikes'] ?? false;
  const saveLogits = values['save-logits'] ?? false;
  const { graph, result, backendUsed } = await runBackend(backend, model, input, { spikeMaps: dumpSpikes ? 'all' : undefined, headMaps: saveLogits });
  await mkdir(values.out, { recursive: true });
  const { files, report } = frameFiles(graph, result, { backend: backendUsed, tasks, spikeMaps: dumpSpikes });
  for (const [name, bytes] of files) await writeFile(join(values.out, name), bytes);
  const taskSummary = await writeTaskOutputs(values.out, graph, result, tasks, backendUsed, saveLogits);
  const ones = report.layers.reduce((a, l) => a + l.ones, 0);
  const total = report.layers.reduce((a, l) => a + l.total, 0);
  console.log(`${backendUsed}: input ${input.height}x${input.width}, T=${model.config.timeSteps}, top-1 class ${report.top1}${answerNote(model, result.logits, tasks)}, ` +
    `${ones.toLocaleString('en-US')} spikes of ${total.toLocaleString('en-US')} neurons (rate ${(ones / total).toFixed(4)})` +
    `${taskSummary.map((s) => `; ${s}`).join('')} → ${values.out}`);
  console.log(spikeSummary(graph, result.layers));
}

/** `, answer "no digit"` (or the top label) for a model with a "no digit" class, by its own rule; else ''. */
function answerNote(model: LoadedModel, logits: Float32Array | undefined, tasks: readonly string[]): string {
  if (!logits || !tasks.includes('classify')) return '';
  const labels = classifyLabels(model);
  if (noDigitIndex(labels) < 0) return '';
  const { index } = classifyAnswer(probabilities(logits), labels, noDigitThreshold(model.checkpoint.metadata));
  return `, answer "${labels[index]}"`;
}

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = { convert, info, infer, 'export-onnx': exportOnnxCommand };

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(`spikeformer: unknown command "${command}"; see spikeformer --help`);
    return 1;
  }
  try {
    await run(rest);
    return 0;
  } catch (e) {
    if (process.env.SPIKEFORMER_DEBUG) console.error(e);
    const message = e instanceof Error ? e.message : String(e);
    console.error(`spikeformer ${command}: ${message}`);
    return 1;
  }
}
