import { useEffect, useState } from 'preact/hooks';
import { MODELS, OUTPUT_FORMATS, BACKGROUNDS, comboProblem, outputSize } from '../../../src/contract/models.js';
import type { AspectRatio, Resolution } from '../../../src/contract/models.js';
import type { PriceRow } from '../../../src/contract/pricing.js';
import type { ApiClient } from '../api.js';
import { formatUsd } from '../batch.js';
import { readableFields } from '../messages.js';
import { STUDIO_MODELS, fitFormat, type FormatChoice } from '../state.js';

interface Props {
  choice: FormatChoice;
  onChange: (choice: FormatChoice) => void;
  /** what a task of `model` costs as the form stands (its route, ratio and resolution: route-price.ts); the model's list price without it */
  priceOf?: (model: string) => number;
}

const MODEL_LABEL: Record<string, string> = {
  'gpt-image-2-image-to-image': 'Standard',
  'gpt-image-2-image-to-image-pro': 'Pro',
};

function price(usd: number): string {
  return usd === 0 ? 'free' : `${formatUsd(usd)} / image`;
}

/** The server's price rows (`GET /api/pricing`), read once; null until they come (or when they cannot be read). */
export function usePriceRows(api: ApiClient): PriceRow[] | null {
  const [rows, setRows] = useState<PriceRow[] | null>(null);
  useEffect(() => {
    let live = true;
    api.pricing().then(
      (r) => live && setRows(r),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [api]);
  return rows;
}

/** A small rectangle with the ratio's shape, so 4:5 and 5:4 are told apart at a glance. */
function RatioIcon({ ratio }: { ratio: AspectRatio }) {
  if (ratio === 'auto') return <span class="ratio-icon ratio-auto" aria-hidden="true" />;
  const [w, h] = ratio.split(':').map(Number) as [number, number];
  const scale = 18 / Math.max(w, h);
  return <span class="ratio-icon" aria-hidden="true" style={{ width: `${Math.max(4, w * scale)}px`, height: `${Math.max(4, h * scale)}px` }} />;
}

/** Model, framing and file options. Disabled choices come from the server's own rule table. */
export function FormatPanel({ choice, onChange, priceOf }: Props) {
  const spec = MODELS[choice.model]!;
  const set = (patch: Partial<FormatChoice>) => onChange({ ...choice, ...patch });
  const ratioProblem = (r: AspectRatio) => comboProblem(spec, r, choice.resolution);
  const resProblem = (r: Resolution) => comboProblem(spec, choice.aspectRatio, r);
  const size = choice.aspectRatio === 'auto' ? null : outputSize(choice.aspectRatio, choice.resolution);
  const hint =
    spec.resolutions
      .map((r) => (r === choice.resolution ? null : resProblem(r)))
      .find((p) => p !== null && p !== 'not offered by this model') ?? null;

  return (
    <section class="panel" aria-labelledby="format-title">
      <div class="panel-head">
        <h2 id="format-title">Output</h2>
        <span class="muted small" aria-live="polite">
          {size ? `${size.width} × ${size.height} px` : 'source ratio, 1024 px long side'}
        </span>
      </div>

      <fieldset class="segmented" aria-describedby="model-help">
        <legend class="label">Model</legend>
        {STUDIO_MODELS.map((name) => (
          <label key={name} class="seg">
            <input
              type="radio"
              name="model"
              value={name}
              checked={choice.model === name}
              onChange={() => onChange(fitFormat({ ...choice, model: name }))}
            />
            <span>
              {MODEL_LABEL[name]} <span class="seg-sub">{price(priceOf ? priceOf(name) : MODELS[name]!.priceUsd)}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <p id="model-help" class="muted small">
        {spec.description}
      </p>

      <fieldset class="ratios">
        <legend class="label">Aspect ratio</legend>
        <div class="ratio-grid">
          {spec.aspectRatios.map((r) => {
            const problem = ratioProblem(r);
            return (
              <label key={r} class={`ratio${problem ? ' is-disabled' : ''}`} title={problem ? readableFields(problem) : undefined}>
                <input
                  type="radio"
                  name="aspect_ratio"
                  value={r}
                  checked={choice.aspectRatio === r}
                  disabled={problem !== null}
                  onChange={() => set({ aspectRatio: r })}
                />
                <span>
                  <RatioIcon ratio={r} />
                  {r}
                </span>
              </label>
            );
          })}
        </div>
      </fieldset>

      <fieldset class="segmented">
        <legend class="label">Resolution</legend>
        {spec.resolutions.map((r) => {
          const problem = resProblem(r);
          return (
            <label key={r} class={`seg${problem ? ' is-disabled' : ''}`} title={problem ? readableFields(problem) : undefined}>
              <input
                type="radio"
                name="resolution"
                value={r}
                checked={choice.resolution === r}
                disabled={problem !== null}
                onChange={() => set({ resolution: r })}
              />
              <span>{r}</span>
            </label>
          );
        })}
      </fieldset>
      {hint && <p class="muted small">Unavailable here: {readableFields(hint)}.</p>}

      <div class="row-3">
        <label class="field">
          <span class="label">File type</span>
          <select value={choice.outputFormat} onChange={(e) => {
              const outputFormat = e.currentTarget.value as FormatChoice['outputFormat'];
              // JPEG has no alpha channel: a transparent background falls back to the scene.
              set({ outputFormat, background: outputFormat === 'jpeg' && choice.background === 'transparent' ? 'auto' : choice.background });
            }}>
            {OUTPUT_FORMATS.map((f) => (
              <option key={f} value={f}>
                {f.toUpperCase()}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span class="label">Background</span>
          <select value={choice.background} onChange={(e) => set({ background: e.currentTarget.value as FormatChoice['background'] })}>
            {BACKGROUNDS.map((b) => (
              <option key={b} value={b} disabled={b === 'transparent' && choice.outputFormat === 'jpeg'}>
                {b === 'auto' ? 'Scene' : b === 'opaque' ? 'Opaque scene' : 'Transparent'}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span class="label">Seed</span>
          <input
            type="text"
            inputMode="numeric"
            pattern="[0-9]*"
            placeholder="random"
            value={choice.seed}
            onInput={(e) => set({ seed: e.currentTarget.value.replace(/[^0-9]/g, '') })}
          />
        </label>
      </div>
    </section>
  );
}
