import { AppError } from '../contract/errors.js';
import { MODELS, PRO_ASPECT_RATIOS, comboProblem, type AspectRatio, type ModelSpec, type Resolution } from '../contract/models.js';
import { validateCreateBody } from '../contract/validate.js';
import { ApiError } from './errors.js';

/**
 * Checks a create body before it is sent, with the server's own rule table (src/contract), so a
 * bad ratio/resolution pair fails at once and costs no request. Models reshoot serves go through
 * `validateCreateBody`; hiapi's text-to-image siblings through the same `comboProblem` with their
 * specs (contract §3.2, §14). Unknown models are left to the server.
 */

const base = MODELS['gpt-image-2-image-to-image']!;
const textSpec = (name: string, rules: ModelSpec['rules'], extra: Partial<ModelSpec> = {}): ModelSpec => ({
  ...base,
  name,
  canonical: name,
  rules,
  minRefs: 0,
  maxRefs: 0,
  ...extra,
});

const TEXT_TO_IMAGE: Record<string, ModelSpec> = {
  'gpt-image-2': textSpec('gpt-image-2', 'classic'),
  'gpt-image-2/text-to-image': textSpec('gpt-image-2/text-to-image', 'slashed'),
  // D2: no documented default ratio for gpt-image-2-pro; 1:1 is what our decision picks.
  'gpt-image-2-pro': textSpec('gpt-image-2-pro', 'pro', {
    tier: 'pro',
    aspectRatios: PRO_ASPECT_RATIOS.filter((r) => r !== 'auto'),
    resolutions: ['1K', '2K'],
    defaultAspectRatio: '1:1',
  }),
};

const invalid = (message: string): ApiError => new ApiError({ status: 0, code: 'INVALID_REQUEST', message });

function checkTextToImage(spec: ModelSpec, input: Record<string, unknown>): void {
  if (typeof input.prompt !== 'string' || input.prompt.trim() === '') throw invalid('input.prompt: is required and must not be empty');
  if (input.input_urls !== undefined) throw invalid(`input.input_urls: ${spec.name} is text-to-image and takes no references`);
  const ratio = (input.aspect_ratio ?? spec.defaultAspectRatio) as AspectRatio;
  const res = (input.resolution ?? spec.defaultResolution) as Resolution;
  if (!spec.aspectRatios.includes(ratio)) throw invalid(`input.aspect_ratio: must be one of ${spec.aspectRatios.join(', ')}`);
  if (!spec.resolutions.includes(res)) throw invalid(`input.resolution: must be one of ${spec.resolutions.join(', ')}`);
  let problem = comboProblem(spec, ratio, res);
  // §14: the slashed text-to-image name also refuses 1:1 at 4K (image-to-image allows it).
  if (!problem && spec.rules === 'slashed' && ratio === '1:1' && res === '4K') problem = 'resolution 4K is not available for aspect_ratio 1:1';
  if (problem) throw invalid(`input.resolution: ${problem}`);
}

/** Throws ApiError INVALID_REQUEST (status 0: nothing was sent) when the body breaks a rule. */
export function checkCreateBody(body: { model: string; input: Record<string, unknown>; [k: string]: unknown }): void {
  const t2i = TEXT_TO_IMAGE[body.model];
  if (t2i) {
    checkTextToImage(t2i, body.input);
    return;
  }
  if (!MODELS[body.model]) return;
  try {
    validateCreateBody(body);
  } catch (err) {
    if (err instanceof AppError && err.code === 'INVALID_REQUEST') throw invalid(err.message);
    throw err;
  }
}
