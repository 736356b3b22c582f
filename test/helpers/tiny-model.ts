import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { lenBuf, varField } from '../../src/engine/cutout/model-prep.js';

/**
 * A segmentation model of under a kilobyte with the interface of the shipped IS-Net weights (see
 * SegmenterOptions.modelPath): input `input`, float32 1x3x1024x1024 of (v - 128) / 256; output `output`,
 * float32 1x1x1024x1024 probabilities. A pixel's probability of being product is a sigmoid of its colour
 * distance from the backdrop, which is taken per row as the mean of the row's first and last pixels
 * (a sweep's gradient runs down the frame). On the fixture packshots the product is found with the
 * darkest of the floor shadow (IoU with the true alpha 0.94 for the mug at 480 px, where the real weights
 * give 0.998; pale or glass products come out partly), in milliseconds instead of seconds; that is all
 * the server, CLI and SDK tests need of a model. The cutout's own tests and one render per path run the
 * real weights.
 */

/**
 * Colour distance (in 8-bit levels over the three channels) where the probability is 0.5, above the
 * backdrop's own spread (a fixture's vignette darkens the sides by about 15 levels), and how fast it rises.
 */
const THRESHOLD_LEVELS = 24;
const SLOPE_PER_LEVEL = 0.4;

// onnx.proto field numbers
const MODEL = { irVersion: 1, producer: 2, graph: 7, opset: 8 };
const OPSET = { version: 2 };
const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12 };
const NODE = { input: 1, output: 2, name: 3, op: 4 };
const TENSOR = { dims: 1, dataType: 2, name: 8, raw: 9 };
const VALUE_INFO = { name: 1, type: 2 };
const FLOAT = 1, INT64 = 7;

const text = (num: number, s: string): Buffer => lenBuf(num, Buffer.from(s, 'utf8'));
const message = (num: number, ...parts: Buffer[]): Buffer => lenBuf(num, Buffer.concat(parts));

function node(op: string, inputs: string[], output: string): Buffer {
  return message(GRAPH.node, ...inputs.map((i) => text(NODE.input, i)), text(NODE.output, output), text(NODE.name, output), text(NODE.op, op));
}

function floatScalar(name: string, v: number): Buffer {
  const raw = Buffer.alloc(4);
  raw.writeFloatLE(v);
  return message(GRAPH.initializer, varField(TENSOR.dataType, FLOAT), text(TENSOR.name, name), lenBuf(TENSOR.raw, raw));
}

function int64Vector(name: string, values: bigint[]): Buffer {
  const raw = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => raw.writeBigInt64LE(v, 8 * i));
  return message(GRAPH.initializer, varField(TENSOR.dims, values.length), varField(TENSOR.dataType, INT64), text(TENSOR.name, name), lenBuf(TENSOR.raw, raw));
}

function float32ValueInfo(field: number, name: string, dims: number[]): Buffer {
  const shape = Buffer.concat(dims.map((d) => lenBuf(1, varField(1, d))));
  // ValueInfoProto { name, type: TypeProto { tensor_type: { elem_type, shape: { dim: { dim_value } } } } }
  return message(field, text(VALUE_INFO.name, name), message(VALUE_INFO.type, message(1, varField(1, FLOAT), lenBuf(2, shape))));
}

/** The model's bytes (ONNX opset 17). */
export function tinySegmenterModel(): Buffer {
  const level = 1 / 256; // one 8-bit level in the model's input units
  const graph = Buffer.concat([
    node('Slice', ['input', 'first', 'second', 'width_axis'], 'left'),
    node('Slice', ['input', 'last', 'end', 'width_axis'], 'right'),
    node('Add', ['left', 'right'], 'edges'),
    node('Mul', ['edges', 'half'], 'backdrop'),
    node('Sub', ['input', 'backdrop'], 'difference'),
    node('Mul', ['difference', 'difference'], 'squared'),
    node('ReduceSum', ['squared', 'channel_axis'], 'sum'),
    node('Sqrt', ['sum'], 'distance'),
    node('Sub', ['distance', 'threshold'], 'above'),
    node('Mul', ['above', 'slope'], 'logit'),
    node('Sigmoid', ['logit'], 'output'),
    text(GRAPH.name, 'backdrop-distance'),
    int64Vector('first', [0n]),
    int64Vector('second', [1n]),
    int64Vector('last', [-1n]),
    int64Vector('end', [2n ** 63n - 1n]),
    int64Vector('width_axis', [3n]),
    int64Vector('channel_axis', [1n]),
    floatScalar('half', 0.5),
    floatScalar('threshold', THRESHOLD_LEVELS * level),
    floatScalar('slope', SLOPE_PER_LEVEL / level),
    float32ValueInfo(GRAPH.input, 'input', [1, 3, 1024, 1024]),
    float32ValueInfo(GRAPH.output, 'output', [1, 1, 1024, 1024]),
  ]);
  return Buffer.concat([
    varField(MODEL.irVersion, 8),
    text(MODEL.producer, 'reshoot tests'),
    lenBuf(MODEL.graph, graph),
    message(MODEL.opset, varField(OPSET.version, 17)),
  ]);
}

/**
 * Writes the model to `file` unless it already holds these bytes: an unchanged file keeps its time,
 * and so its optimised copy in the model cache stays valid between runs.
 */
export function writeTinySegmenterModel(file: string): void {
  const bytes = tinySegmenterModel();
  if (existsSync(file) && readFileSync(file).equals(bytes)) return;
  mkdirSync(path.dirname(file), { recursive: true });
  // several test runs may write it at once: each renames its own complete file into place
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
}

/**
 * RESHOOT_* overrides (startTestServer, a CLI's environment) for a test that needs the real segmentation:
 * an empty RESHOOT_MODEL_PATH is unset, so the shipped IS-Net weights load.
 */
export const REAL_MODEL = { RESHOOT_MODEL_PATH: '' } as const;
