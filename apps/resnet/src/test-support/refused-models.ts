/**
 * Models the server must refuse at start, built from the fixture MobileNetV2 (or, for the text
 * model, from scratch): each wraps or replaces its input so that it is not a single-image
 * classifier the server can serve without being told more.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { encodeModel, OnnxDataType } from '@resnet/model-loader'
import type { ValueInfoSpec } from '@resnet/model-loader'
import { MOBILENET_DIR } from '@resnet/test-support'
import { wrapGraph } from './onnx-graph.js'

/** ONNX element types the project's encoder does not name (int64 token ids, float64 pixels). */
const INT64 = 7 as ValueInfoSpec['elemType']
const DOUBLE = 11 as ValueInfoSpec['elemType']
const NCHW = ['N', 3, 224, 224]

const fixture = (): Promise<Buffer> => readFile(path.join(MOBILENET_DIR, 'model.onnx'))

/** Each refused model's ONNX bytes. */
export const REFUSED_MODELS = {
  'two-image-inputs': async () =>
    wrapGraph(await fixture(), {
      inputs: [
        { name: 'left', shape: NCHW },
        { name: 'right', shape: NCHW },
      ],
      pre: [{ name: 'sum', opType: 'Add', inputs: ['left', 'right'], outputs: ['input'] }],
    }),
  'dynamic-size': async () =>
    wrapGraph(await fixture(), { inputs: [{ name: 'input', shape: ['N', 3, 'H', 'W'] }] }),
  'float64-input': async () =>
    wrapGraph(await fixture(), {
      inputs: [{ name: 'image', shape: NCHW, elemType: DOUBLE }],
      pre: [
        {
          name: 'cast',
          opType: 'Cast',
          inputs: ['image'],
          outputs: ['input'],
          attributes: [{ name: 'to', type: 'int', value: OnnxDataType.FLOAT }],
        },
      ],
    }),
  /** Token ids in, one float per token out: the shape of a text model. */
  'text-model': () =>
    Promise.resolve(
      Buffer.concat(
        encodeModel({
          irVersion: 7,
          producerName: 'test',
          opsetVersion: 12,
          graph: {
            name: 'text',
            nodes: [
              {
                name: 'cast',
                opType: 'Cast',
                inputs: ['input_ids'],
                outputs: ['logits'],
                attributes: [{ name: 'to', type: 'int', value: OnnxDataType.FLOAT }],
              },
            ],
            initializers: [],
            inputs: [{ name: 'input_ids', shape: ['batch', 'sequence'], elemType: INT64 }],
            outputs: [{ name: 'logits', shape: ['batch', 'sequence'] }],
          },
        })
      )
    ),
} satisfies Record<string, () => Promise<Uint8Array>>

/** Writes `dir/model.onnx` of a refused model; returns `dir`. */
export async function writeRefusedBundle(
  name: keyof typeof REFUSED_MODELS,
  dir: string
): Promise<string> {
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, 'model.onnx'), await REFUSED_MODELS[name]())
  return dir
}
