/**
 * The checkpoint readers in the browser: an official `.pth` arrives as a `File` (what a file picker
 * or drop gives), is read through `blobSource` with ranged slices, described and converted.
 */
import { describe, expect, it } from 'vitest';
import { blobSource } from '../../src/io/byteSource.ts';
import { readCheckpoint } from '../../src/checkpoint/index.ts';
import { readSafetensors } from '../../src/checkpoint/safetensors.ts';
import { convertToSafetensors } from '../../src/model/convertToSafetensors.ts';
import { loadModel } from '../../src/model/loadModel.ts';
import { fetchReferenceBytes } from '../helpers/referenceInBrowser.ts';

async function referenceFile(path: string): Promise<File> {
  return new File([await fetchReferenceBytes(path)], path.split('/').pop()!);
}

describe('checkpoint readers in the browser', () => {
  it('reads an official .pth from a File, with T from its args', async () => {
    const file = await referenceFile('metaspikformer-tiny-t4-kd/checkpoint.pth');
    const model = await loadModel(blobSource(file));
    expect(model.config.embedDims).toEqual([16, 32, 64, 96]);
    expect(model.config.timeSteps).toBe(4);
    expect(model.config.kd).toBe(true);
    expect(model.tensors.size).toBe(827);
    expect(model.tensors.get('head_kd.weight')!.shape).toEqual([7, 96]);
  });

  it('converts to safetensors in memory and reads it back as a Blob', async () => {
    const file = await referenceFile('metaspikformer-tiny-t1/checkpoint.pth');
    const converted = await convertToSafetensors(blobSource(file), { fp16: true });
    const back = await readSafetensors(blobSource(new Blob(converted.chunks as BlobPart[])));
    expect(back.tensors.get('head.weight')!.dtype).toBe('float16');
    expect(JSON.parse(back.metadata['spikeformer.config']).numClasses).toBe(10);
  });

  it('refuses a file that is not a checkpoint, naming it', async () => {
    const junk = new File([new Uint8Array(1000).fill(7)], 'holiday.jpg');
    await expect(readCheckpoint(blobSource(junk))).rejects.toThrow(/holiday\.jpg/);
  });
});
