/** Test helper: reference file paths and an assertion on `CheckpointError` codes. */
import path from 'node:path';
import { expect } from 'vitest';
import { CheckpointError, type CheckpointErrorCode } from '../../src/checkpoint/errors.ts';

/** The official code's reference outputs (tests/fixtures/official), relative to the project root (the test cwd). */
export const REFERENCE = path.resolve(process.cwd(), 'tests/fixtures/official');
export const T1_CHECKPOINT = path.join(REFERENCE, 'metaspikformer-tiny-t1/checkpoint.pth');
export const T4_CHECKPOINT = path.join(REFERENCE, 'metaspikformer-tiny-t4-kd/checkpoint.pth');

/** Runs `f`, expects it to throw (or reject with) a CheckpointError of `code`, and returns it. */
export async function expectCheckpointError(f: () => unknown, code: CheckpointErrorCode): Promise<CheckpointError> {
  let caught: unknown;
  try {
    await f();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected a CheckpointError '${code}'`).toBeInstanceOf(CheckpointError);
  const err = caught as CheckpointError;
  expect(err.code, err.message).toBe(code);
  expect(err.message).not.toContain('\n');
  return err;
}
