/**
 * The code flows one way: checkpoint bytes → reader → model description → runtimes → task heads →
 * the programs that use them (CLI, app, benchmark). Every module under src/ belongs to a stage,
 * and none may import from a stage after its own (shared math lives where the flow starts, e.g.
 * `src/model/layerMath.ts`). Stages of the same rank (the ONNX export beside the image
 * preprocessing) may not import each other either.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Folders of src/ in flow order; the export is a description of the model for other runtimes. */
const STAGES: Record<string, number> = {
  io: 0,
  checkpoint: 1,
  model: 2,
  preprocess: 3,
  export: 3,
  runtime: 4,
  tasks: 5,
  cli: 6,
  bench: 6,
  app: 6,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : /\.tsx?$/.test(name) ? [p] : [];
  });
}

const stageOf = (file: string) => relative('src', file).split(/[\\/]/)[0];

/** The src/ files a module imports (relative specifiers, static or dynamic, types included). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"?]+)/g)].map((m) => m[1]);
  return specs.map((s) => normalize(join(dirname(file), s))).filter((p) => p.startsWith('src'));
}

describe('imports follow the flow', () => {
  const files = sourceFiles('src');

  it('every folder of src/ has a stage', () => {
    expect([...new Set(files.map(stageOf))].filter((s) => !(s in STAGES))).toEqual([]);
  });

  it('no module imports from a later stage, nor from another stage of its rank', () => {
    const against: string[] = [];
    for (const file of files) {
      const own = stageOf(file);
      for (const target of importsOf(file)) {
        const theirs = stageOf(target);
        if (theirs !== own && STAGES[theirs] >= STAGES[own]) against.push(`${file} → ${target}`);
      }
    }
    expect(against).toEqual([]);
  });

  it('the check sees a backward import when there is one', () => {
    // model/ importing the CPU runtime would be against the flow: the rule above must catch it.
    expect(STAGES[stageOf('src/runtime/cpu/ops.ts')]).toBeGreaterThan(STAGES[stageOf('src/model/graph.ts')]);
    expect(importsOf('src/runtime/cpu/ops.ts')).toContain(normalize('src/model/layerMath.ts'));
  });
});
