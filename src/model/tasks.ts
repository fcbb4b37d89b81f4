/**
 * The tasks, in one place: their names, the choices offered to people (`all` included), which
 * heads a config has, what each task reads back from a frame and how it is labelled. The graph,
 * the CLI and the app all ask here; a new head means registering it in `TASKS` (plus its kernels
 * in the graph and its decoding in `src/tasks/`).
 */
import type { HeadsConfig, ModelConfig } from './config.ts';
import type { GraphOutputName } from './graph.ts';

/** The tasks a model can run; `classify` is the backbone's own head and always there. */
export type Task = 'classify' | 'segment' | 'detect';

/** What a person chooses: one task, or every task the model has. */
export type TaskChoice = Task | 'all';

/** A head of `config.heads` (the FPN feeds them and is not a task). */
type HeadKey = Exclude<keyof HeadsConfig, 'fpn'>;

export interface TaskSpec {
  name: Task;
  /** The task switch's label ("Detect"). */
  label: string;
  /** Its place in the lists shown to people (the task switch, `--task`'s help). */
  menuRank: number;
  /** The head in `config.heads` that computes it; null for `classify` (the backbone's own). */
  head: HeadKey | null;
  /** What the head is, for messages ("detection head (det_head.* tensors)"). */
  headDescription: string;
  /** The graph outputs the task reads back from a frame. */
  outputs: readonly GraphOutputName[];
  /** A scene task: runs on the whole scene and is drawn over the input (boxes, masks). */
  scene: boolean;
}

/** Every task, in the order the graph computes them and results list them. */
export const TASKS: readonly TaskSpec[] = [
  { name: 'classify', label: 'Classify', menuRank: 0, head: null, headDescription: 'classification head (head.* tensors)', outputs: ['logits'], scene: false },
  { name: 'segment', label: 'Segment', menuRank: 2, head: 'segment', headDescription: 'segmentation head (seg_head.* tensors)', outputs: ['seg_logits'], scene: true },
  { name: 'detect', label: 'Detect', menuRank: 1, head: 'detect', headDescription: 'detection head (det_head.* tensors)', outputs: ['det_heatmap', 'det_boxreg'], scene: true },
];

const BY_NAME = new Map(TASKS.map((t) => [t.name, t]));
const BY_MENU = [...TASKS].sort((a, b) => a.menuRank - b.menuRank);

/** Every choice, in the order people see them: the tasks, then `all`. */
export const TASK_CHOICES: readonly TaskChoice[] = [...BY_MENU.map((t) => t.name), 'all'];

export const ALL_LABEL = 'All';

export function isTask(value: string): value is Task {
  return BY_NAME.has(value as Task);
}

export function isTaskChoice(value: string | null | undefined): value is TaskChoice {
  return value != null && (TASK_CHOICES as readonly string[]).includes(value);
}

export function taskSpec(task: Task): TaskSpec {
  return BY_NAME.get(task)!;
}

/** The label of a choice ("Detect", "All"). */
export function choiceLabel(choice: TaskChoice): string {
  return choice === 'all' ? ALL_LABEL : taskSpec(choice).label;
}

/** Whether `config` has the head `task` needs. */
export function hasTask(config: ModelConfig, task: Task): boolean {
  const { head } = taskSpec(task);
  return head === null || !!config.heads?.[head];
}

/** The tasks a config can run, in the order `classify`, `segment`, `detect`. */
export function availableTasks(config: ModelConfig): Task[] {
  return TASKS.filter((t) => hasTask(config, t.name)).map((t) => t.name);
}

/** "unknown task "pose": use one of classify, detect, segment, all". */
export function unknownTaskMessage(value: string): string {
  return `unknown task "${value}": use one of ${TASK_CHOICES.join(', ')}`;
}

/** The first of `tasks` whose head `config` lacks, if any. */
export function missingTask(config: ModelConfig, tasks: readonly Task[]): Task | null {
  return tasks.find((t) => !hasTask(config, t)) ?? null;
}

/**
 * The tasks to build for `requested` (checked against the config: an unknown task or a missing
 * head throws), or every task the config has; `classify` always, all in the order of `TASKS`.
 */
export function selectTasks(config: ModelConfig, requested?: readonly string[]): Task[] {
  if (!requested) return availableTasks(config);
  for (const t of requested) if (!isTask(t)) throw new Error(`unknown task "${t}"`);
  const missing = missingTask(config, requested as Task[]);
  if (missing) throw new Error(`the model has no ${taskSpec(missing).headDescription}`);
  return TASKS.filter((t) => t.name === 'classify' || requested.includes(t.name)).map((t) => t.name);
}

/**
 * The config restricted to `tasks`: heads not asked for are dropped (so graphs built from it do not
 * compute them). Throws if a task's head is missing from the config.
 */
export function configForTasks(config: ModelConfig, tasks: readonly Task[]): ModelConfig {
  selectTasks(config, tasks);
  const h = config.heads;
  const kept: Partial<Record<HeadKey, unknown>> = {};
  for (const t of TASKS) if (t.head) kept[t.head] = tasks.includes(t.name) ? h![t.head] : null;
  const any = Object.values(kept).some(Boolean);
  return { ...config, heads: any ? ({ fpn: h!.fpn, ...kept } as HeadsConfig) : null };
}

/** The choices for a model with these tasks: classify always, each head it has, `all` when any. */
export function taskChoices(available: readonly Task[]): TaskChoice[] {
  const out: TaskChoice[] = BY_MENU.filter((t) => available.includes(t.name) || t.name === 'classify').map((t) => t.name);
  if (out.length > 1) out.push('all');
  return out;
}

/**
 * The tasks a choice runs, leniently (for the app): a task the model lacks runs classification
 * alone; classification always comes with the backbone pass.
 */
export function tasksFor(choice: TaskChoice, available: readonly Task[]): Task[] {
  if (choice === 'all') return [...available];
  if (choice === 'classify' || !available.includes(choice)) return ['classify'];
  return TASKS.filter((t) => t.name === 'classify' || t.name === choice).map((t) => t.name);
}

/** Whether these tasks include a scene task (run at the scene size, drawn over the input). */
export function hasSceneTask(tasks: readonly Task[]): boolean {
  return tasks.some((t) => taskSpec(t).scene);
}
