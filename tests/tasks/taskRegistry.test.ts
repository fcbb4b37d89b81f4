/**
 * `src/model/tasks.ts` owns the tasks: names, the choices (`all` included), which heads a config
 * has, what each reads back and its label. The graph, the CLI and the app all answer from it.
 */
import { describe, expect, test } from 'vitest';
import { parseTasks } from '../../src/cli/taskOutputs.ts';
import { buildModelGraph } from '../../src/model/graph.ts';
import {
  availableTasks, choiceLabel, configForTasks, hasSceneTask, isTaskChoice, missingTask, selectTasks, taskChoices, TASK_CHOICES, TASKS, taskSpec, tasksFor,
  unknownTaskMessage,
} from '../../src/model/tasks.ts';
import { digitsConfig } from '../helpers/headsModel.ts';

const full = digitsConfig({ depths: [1, 1] });
const segOnly = digitsConfig({ depths: [1, 1], det: false });
const plain = { ...full, heads: null };

describe('the task registry', () => {
  test('names, choices in the order people see them, labels', () => {
    expect(TASKS.map((t) => t.name)).toEqual(['classify', 'segment', 'detect']);
    expect(TASK_CHOICES).toEqual(['classify', 'detect', 'segment', 'all']);
    expect(TASK_CHOICES.map(choiceLabel)).toEqual(['Classify', 'Detect', 'Segment', 'All']);
    expect(['classify', 'all', 'detect'].every(isTaskChoice)).toBe(true);
    expect([null, undefined, 'pose', 'Classify'].some(isTaskChoice)).toBe(false);
    expect(unknownTaskMessage('pose')).toBe('unknown task "pose": use one of classify, detect, segment, all');
  });

  test('which heads a config has', () => {
    expect(availableTasks(full)).toEqual(['classify', 'segment', 'detect']);
    expect(availableTasks(segOnly)).toEqual(['classify', 'segment']);
    expect(availableTasks(plain)).toEqual(['classify']);
    expect(missingTask(segOnly, ['classify', 'detect'])).toBe('detect');
    expect(missingTask(full, ['classify', 'detect'])).toBeNull();
    expect(taskChoices(availableTasks(segOnly))).toEqual(['classify', 'segment', 'all']);
    expect(taskChoices(availableTasks(plain))).toEqual(['classify']);
  });

  test('what a choice runs, and whether it is drawn over the scene', () => {
    expect(tasksFor('all', availableTasks(full))).toEqual(['classify', 'segment', 'detect']);
    expect(tasksFor('detect', availableTasks(segOnly))).toEqual(['classify']);
    expect(hasSceneTask(['classify'])).toBe(false);
    expect(hasSceneTask(['classify', 'detect'])).toBe(true);
  });

  test('the graph builds what the registry says, and reads back each task\'s outputs', () => {
    for (const spec of TASKS) {
      const g = buildModelGraph(configForTasks(full, ['classify', spec.name]), 64, 64);
      expect(g.tasks).toEqual(spec.name === 'classify' ? ['classify'] : ['classify', spec.name]);
      for (const out of spec.outputs) expect(g.outputs[out]).toBe(out);
    }
    expect(Object.keys(buildModelGraph(full, 64, 64).outputs).sort()).toEqual(TASKS.flatMap((t) => t.outputs).sort());
    expect(() => selectTasks(segOnly, ['detect'])).toThrowError('the model has no detection head (det_head.* tensors)');
    expect(() => selectTasks(full, ['pose'])).toThrowError('unknown task "pose"');
    expect(configForTasks(full, ['classify', 'segment']).heads).toEqual({ fpn: full.heads!.fpn, segment: full.heads!.segment, detect: null });
    expect(taskSpec('segment').headDescription).toBe('segmentation head (seg_head.* tensors)');
  });

  test('the CLI\'s --task answers from it, with its own texts', () => {
    expect(parseTasks('all', segOnly)).toEqual(['classify', 'segment']);
    expect(parseTasks('segment', full)).toEqual(['classify', 'segment']);
    expect(() => parseTasks('pose', full)).toThrowError('unknown task "pose": use one of classify, detect, segment, all');
    expect(() => parseTasks('detect', segOnly)).toThrowError('--task detect: the checkpoint has no detection head (det_head.* tensors)');
  });
});
