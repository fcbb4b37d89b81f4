/**
 * Every way a checkpoint can be refused, as one error type with a machine-readable code and a
 * one-line human message (the CLI prints `message` and exits non-zero; the app shows it).
 */
export type CheckpointErrorCode =
  | 'truncated'        // the file ends before a structure it declares
  | 'not-a-checkpoint' // neither a torch zip, a legacy torch file nor safetensors
  | 'legacy-torch'     // pre-1.6 torch.save format
  | 'bad-zip'          // zip structure broken or unsupported (encrypted, multi-disk, unknown compression)
  | 'bad-pickle'       // malformed pickle stream
  | 'forbidden-call'   // the pickle asks to call/instantiate something not on the allow list
  | 'limit'            // a size, depth or count over the reader's bounds
  | 'bad-tensor'       // a tensor whose dtype, shape, strides or storage do not fit
  | 'bad-safetensors'  // malformed safetensors header or offsets
  | 'no-weights';      // no state_dict found in the checkpoint

export class CheckpointError extends Error {
  readonly code: CheckpointErrorCode;
  constructor(code: CheckpointErrorCode, message: string) {
    super(message);
    this.name = 'CheckpointError';
    this.code = code;
  }
}
