import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import { float32Tensor } from '../../src/checkpoint/tensor.ts';
import { bytesSource } from '../../src/io/byteSource.ts';
import { defaultConfig } from '../../src/model/config.ts';
import { convertToSafetensors } from '../../src/model/convertToSafetensors.ts';
import { CONFIG_METADATA_KEY } from '../../src/model/loadModel.ts';
import { randomStateDict } from '../helpers/randomCheckpoint.ts';

function blob(chunks: Uint8Array[]) {
  return bytesSource(new Uint8Array(Buffer.concat(chunks)));
}

describe('convertToSafetensors', () => {
  const config = defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 10, depths: [1, 1] });

  it('writes the config, keeps task-head tensors and refuses foreign ones', async () => {
    const tensors = randomStateDict(config, 5);
    tensors.set('seg_head.classifier.weight', float32Tensor([11, 8, 1, 1], new Float32Array(88).fill(0.25)));
    const converted = await convertToSafetensors(blob(writeSafetensors(tensors, {})), { timeSteps: 2 });
    const back = await readSafetensors(blob(converted.chunks));
    expect(JSON.parse(back.metadata[CONFIG_METADATA_KEY])).toMatchObject({ timeSteps: 2, depths: [1, 1], numClasses: 10 });
    expect(back.tensors.get('seg_head.classifier.weight')!.shape).toEqual([11, 8, 1, 1]);
    expect(back.tensors.size).toBe(tensors.size);

    tensors.set('decoder.weight', float32Tensor([2], new Float32Array(2)));
    await expect(convertToSafetensors(blob(writeSafetensors(tensors, {})))).rejects.toThrow(/1 unexpected \(decoder\.weight\)/);
  });

  it('T from our own metadata survives a second conversion; --time-steps overrides it', async () => {
    const once = await convertToSafetensors(blob(writeSafetensors(randomStateDict(config, 6), {})), { timeSteps: 3 });
    const twice = await convertToSafetensors(blob(once.chunks));
    expect(twice.config.timeSteps).toBe(3);
    expect((await convertToSafetensors(blob(once.chunks), { timeSteps: 1 })).config.timeSteps).toBe(1);
  });
});
