/**
 * The input a model file says it expects, per task: the size its heads were trained at and how a
 * frame becomes that input. Our safetensors files carry it in the `spikeformer.tasks` metadata
 * (written by `training/export.py`: `classify.input`, `segment.input`, `detect.input`, each with a
 * `preprocess.crop` text); official checkpoints carry none, and then the official ImageNet
 * evaluation transform applies. The CLI and the app read it from here, so neither guesses a size.
 */
import { TASKS as TASK_SPECS, type Task } from './tasks.ts';

/** One task's input: `height`×`width` pixels cut from the frame as `crop` says. */
export interface TaskInput {
  height: number;
  width: number;
  /** 'centre-square': the largest centred square of the frame, resized to height×width. */
  crop: 'centre-square';
}

/** The inputs a model file declares, by task; a task without an entry has none declared. */
export type ModelInputs = Partial<Record<Task, TaskInput>>;

const TASKS: readonly Task[] = TASK_SPECS.map((t) => t.name);

function taskInput(entry: unknown): TaskInput | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  const { input } = entry as { input?: unknown };
  if (!Array.isArray(input) || input.length !== 2) return undefined;
  const [height, width] = input;
  const ok = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 16 && (v as number) <= 4096 && (v as number) % 16 === 0;
  return ok(height) && ok(width) ? { height, width, crop: 'centre-square' } : undefined;
}

/** The declared inputs in `spikeformer.tasks` metadata; {} when there are none or they are malformed. */
export function inputsFromMetadata(metadata: Record<string, string>): ModelInputs {
  const text = metadata['spikeformer.tasks'];
  if (!text) return {};
  let tasks: unknown;
  try {
    tasks = JSON.parse(text);
  } catch {
    return {};
  }
  if (!tasks || typeof tasks !== 'object') return {};
  const inputs: ModelInputs = {};
  for (const task of TASKS) {
    const input = taskInput((tasks as Record<string, unknown>)[task]);
    if (input) inputs[task] = input;
  }
  return inputs;
}

/**
 * The input for running `tasks` together (one backbone pass): with a dense task (detection,
 * segmentation) the input declared for it, since its boxes and masks need the whole frame, else
 * classification's; `undefined` when the file declares none for them.
 */
export function inputForTasks(inputs: ModelInputs, tasks: readonly Task[]): TaskInput | undefined {
  const dense = tasks.filter((t) => t !== 'classify');
  return dense.length ? dense.map((t) => inputs[t]).find(Boolean) : inputs.classify;
}

/** "classify 64×64, segment 128×128, detect 128×128 (centre square of the image, resized)", or null. */
export function describeInputs(inputs: ModelInputs): string | null {
  const parts = TASKS.filter((t) => inputs[t]).map((t) => `${t} ${inputs[t]!.height}×${inputs[t]!.width}`);
  return parts.length ? `${parts.join(', ')} (centre square of the image, resized)` : null;
}
