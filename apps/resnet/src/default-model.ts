/** The bundle served when MODEL_URI is unset: the real MobileNetV2 int8 committed with this app. */
import { fileURLToPath } from 'node:url'

/** `apps/resnet/models/mobilenetv2-int8` (next to `src/` and `dist/`, and in the image's `/app`). */
export const DEFAULT_MODEL_DIR: string = fileURLToPath(
  new URL('../models/mobilenetv2-int8', import.meta.url)
)
