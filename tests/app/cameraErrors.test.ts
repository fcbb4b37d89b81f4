import { expect, test } from 'vitest';
import { cameraErrorMessage } from '../../src/app/useFrameSource.ts';

const named = (name: string) => Object.assign(new Error('x'), { name });

test('camera failures become a clear sentence that points to files and samples', () => {
  expect(cameraErrorMessage(named('NotAllowedError'))).toMatch(/^Camera access was denied\..*image or video file/);
  expect(cameraErrorMessage(named('NotFoundError'))).toMatch(/^No camera was found\./);
  expect(cameraErrorMessage(named('NotReadableError'))).toMatch(/in use by another program/);
  expect(cameraErrorMessage(named('AbortError'))).toMatch(/Files and samples still work/);
});
