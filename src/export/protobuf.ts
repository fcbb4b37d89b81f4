/**
 * The part of the ONNX protobuf schema (onnx/onnx.proto, `syntax = "proto2"`) that the exporter
 * writes, as plain objects, and their encoding.
 *
 * Encoding uses `protobufjs/minimal`'s `Writer` (the low-level wire-format writer of protobuf.js 7,
 * maintained, and already in the dependency tree through onnxruntime-web). We take only the
 * writer, not a schema compiler: the ONNX messages we need are a dozen fields, written out below
 * with their field numbers from onnx.proto, which is smaller and easier to check than carrying a
 * generated copy of the whole schema (the `onnx-proto` package is one, but it was generated from
 * an old ONNX release and pins protobuf.js 6). The writer keeps references to `raw_data` bytes
 * until `finish()`, so a model's weights are copied once, into the output buffer.
 *
 * Repeated scalars (`dims`, `ints`) are written unpacked, proto2's default; parsers accept both.
 */
import protobuf from 'protobufjs/minimal.js';

/** `TensorProto.DataType`. */
export const DataType = { FLOAT: 1, INT64: 7, BOOL: 9 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** `AttributeProto.AttributeType`. */
const AttributeType = { INT: 2, STRING: 3, INTS: 7 } as const;

export interface TensorProto {
  name: string;
  dataType: DataTypeCode;
  dims: number[];
  /** Little-endian element bytes. */
  rawData: Uint8Array;
}

/** The attribute kinds the exporter needs: INT, STRING, INTS. */
export type AttributeValue = number | string | number[];

export interface NodeProto {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, AttributeValue>;
}

export interface ValueInfoProto {
  name: string;
  elemType: DataTypeCode;
  /** Dimensions; a string is a symbolic dimension (`dim_param`). */
  shape: (number | string)[];
}

export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
}

export interface ModelProto {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  graph: GraphProto;
  metadata: Record<string, string>;
}

const VARINT = 0;
const LEN = 2;

type Writer = protobuf.Writer;

function tag(w: Writer, field: number, wire: number): Writer {
  return w.uint32((field << 3) | wire);
}

function str(w: Writer, field: number, value: string): void {
  if (value !== '') tag(w, field, LEN).string(value);
}

function int(w: Writer, field: number, value: number): void {
  tag(w, field, VARINT).int64(value);
}

function message(w: Writer, field: number, body: (w: Writer) => void): void {
  tag(w, field, LEN).fork();
  body(w);
  w.ldelim();
}

function writeTensor(w: Writer, t: TensorProto): void {
  for (const d of t.dims) int(w, 1, d); // dims
  tag(w, 2, VARINT).int32(t.dataType); // data_type
  str(w, 8, t.name); // name
  tag(w, 9, LEN).bytes(t.rawData); // raw_data
}

function writeAttribute(w: Writer, name: string, value: AttributeValue): void {
  str(w, 1, name); // name
  if (typeof value === 'string') {
    tag(w, 4, LEN).bytes(new TextEncoder().encode(value)); // s
    tag(w, 20, VARINT).int32(AttributeType.STRING); // type
  } else if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an integer`);
    int(w, 3, value); // i
    tag(w, 20, VARINT).int32(AttributeType.INT);
  } else {
    for (const v of value) int(w, 8, v); // ints
    tag(w, 20, VARINT).int32(AttributeType.INTS);
  }
}

function writeNode(w: Writer, n: NodeProto): void {
  for (const i of n.inputs) tag(w, 1, LEN).string(i); // input (an empty name = optional input left out)
  for (const o of n.outputs) tag(w, 2, LEN).string(o); // output
  str(w, 3, n.name); // name
  str(w, 4, n.opType); // op_type
  for (const [name, value] of Object.entries(n.attributes ?? {})) {
    message(w, 5, (a) => writeAttribute(a, name, value)); // attribute
  }
}

function writeValueInfo(w: Writer, v: ValueInfoProto): void {
  str(w, 1, v.name); // name
  message(w, 2, (type) => { // type: TypeProto
    message(type, 1, (tensor) => { // tensor_type: TypeProto.Tensor
      tag(tensor, 1, VARINT).int32(v.elemType); // elem_type
      message(tensor, 2, (shape) => { // shape: TensorShapeProto
        for (const d of v.shape) {
          message(shape, 1, (dim) => { // dim: Dimension
            if (typeof d === 'number') int(dim, 1, d); // dim_value
            else str(dim, 2, d); // dim_param
          });
        }
      });
    });
  });
}

function writeGraph(w: Writer, g: GraphProto): void {
  for (const n of g.nodes) message(w, 1, (x) => writeNode(x, n)); // node
  str(w, 2, g.name); // name
  for (const t of g.initializers) message(w, 5, (x) => writeTensor(x, t)); // initializer
  for (const v of g.inputs) message(w, 11, (x) => writeValueInfo(x, v)); // input
  for (const v of g.outputs) message(w, 12, (x) => writeValueInfo(x, v)); // output
}

export function encodeModel(m: ModelProto): Uint8Array {
  const w = protobuf.Writer.create();
  int(w, 1, m.irVersion); // ir_version
  str(w, 2, m.producerName); // producer_name
  str(w, 3, m.producerVersion); // producer_version
  str(w, 6, m.docString); // doc_string
  message(w, 7, (g) => writeGraph(g, m.graph)); // graph
  message(w, 8, (o) => int(o, 2, m.opsetVersion)); // opset_import: default domain (""), version
  for (const [key, value] of Object.entries(m.metadata)) {
    message(w, 14, (p) => { str(p, 1, key); str(p, 2, value); }); // metadata_props: StringStringEntryProto
  }
  const out = w.finish();
  // In Node the writer returns a Buffer; hand back a plain Uint8Array view of the same bytes.
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
