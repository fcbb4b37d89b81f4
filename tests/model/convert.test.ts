import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import { float32Tensor } from '../../src/checkpoint/tensor.ts';
import { bytesSource } from '../../src/io/byteSource.ts';
import { defaultConfig } from '../../src/model/config.ts';
import { convertToSafetensors } from '../../src/model/convertToSafetensors.ts';
import { CONFIG_METADATA_KEY, TASKS_METADATA_KEY } from '../../src/model/loadModel.ts';
import { digitsConfig } from '../helpers/headsModel.ts';
import { randomStateDict } from '../helpers/randomCheckpoint.ts';

function blob(chunks: Uint8Array[]) {
  return bytesSource(new Uint8Array(Buffer.concat(chunks)));
}

describe('convertToSafetensors', () => {
  const config = defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 10, depths: [1, 1] });

  it('writes the config and refuses foreign tensors', async () => {
    const tensors = randomStateDict(config, 5);
    const converted = await convertToSafetensors(blob(writeSafetensors(tensors, {})), { timeSteps: 2 });
    const back = await readSafetensors(blob(converted.chunks));
    expect(JSON.parse(back.metadata[CONFIG_METADATA_KEY])).toMatchObject({ timeSteps: 2, depths: [1, 1], numClasses: 10 });
    expect(back.tensors.size).toBe(tensors.size);

    tensors.set('decoder.weight', float32Tensor([2], new Float32Array(2)));
    await expect(convertToSafetensors(blob(writeSafetensors(tensors, {})))).rejects.toThrow(/1 unexpected \(decoder\.weight\)/);
  });

  it('keeps the task heads (checked), their class names and the tasks metadata', async () => {
    const withHeads = digitsConfig({ depths: [1, 1], segClasses: 3, detClasses: 2 });
    const tensors = randomStateDict(withHeads, 7);
    const tasks = JSON.stringify({ segment: { classNames: ['bg', 'a', 'b'] }, detect: { classNames: ['a', 'b'] } });
    const converted = await convertToSafetensors(blob(writeSafetensors(tensors, { [TASKS_METADATA_KEY]: tasks })), { fp16: true });
    const back = await readSafetensors(blob(converted.chunks));
    expect(back.tensors.size).toBe(tensors.size);
    expect(back.tensors.get('seg_head.conv_seg.weight')).toMatchObject({ dtype: 'float16', shape: [3, 32, 1, 1] });
    expect(back.metadata[TASKS_METADATA_KEY]).toBe(tasks);
    expect(converted.config.heads!.segment!.classNames).toEqual(['bg', 'a', 'b']);
    // Names also survive through our own config when the tasks entry is gone.
    const again = await convertToSafetensors(blob(writeSafetensors(back.tensors, { [CONFIG_METADATA_KEY]: back.metadata[CONFIG_METADATA_KEY] })));
    expect(again.config.heads!.detect!.classNames).toEqual(['a', 'b']);
    const broken = randomStateDict(withHeads, 7);
    broken.set('det_head.cls_conv.bias', float32Tensor([3], new Float32Array(3)));
    await expect(convertToSafetensors(blob(writeSafetensors(broken, {})))).rejects.toThrow(/det_head\.cls_conv\.bias is \[3\], expected \[2\]/);
  });

  it('T from our own metadata survives a second conversion; --time-steps overrides it', async () => {
    const once = await convertToSafetensors(blob(writeSafetensors(randomStateDict(config, 6), {})), { timeSteps: 3 });
    const twice = await convertToSafetensors(blob(once.chunks));
    expect(twice.config.timeSteps).toBe(3);
    expect((await convertToSafetensors(blob(once.chunks), { timeSteps: 1 })).config.timeSteps).toBe(1);
  });
});
