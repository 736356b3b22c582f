import { BACKDROP_KINDS, ENVIRONMENTS, SURFACE_MATERIALS } from '../../../src/contract/scene.js';
import type { ScenePlan } from '../../../src/contract/scene.js';
import { directionName } from '../planner.js';
import { EMPTY_SCENE, kelvinToWarmth, warmthToKelvin, type SceneSettings } from '../scene-settings.js';

interface Props {
  value: SceneSettings;
  /** the plan from the prompt (and these controls): what an untouched control shows */
  plan: ScenePlan | null;
  onChange: (value: SceneSettings) => void;
}

const title = (s: string) => (s.charAt(0).toUpperCase() + s.slice(1)).replace(/-/g, ' ');

/**
 * Top-down light dial: the product in the middle, the camera at the bottom, the sun where the key
 * light comes from. The range input beside it is the accessible control; the dial also takes clicks.
 */
function LightDial({ azimuth, planned, onChange }: { azimuth: number | null; planned: number; onChange: (a: number) => void }) {
  const a = azimuth ?? planned;
  const rad = (a * Math.PI) / 180;
  const x = 50 + Math.sin(rad) * 36;
  const y = 50 + Math.cos(rad) * 36;
  function pick(e: PointerEvent) {
    if (e.type === 'pointermove' && e.buttons !== 1) return;
    const box = (e.currentTarget as SVGSVGElement).getBoundingClientRect();
    const dx = e.clientX - (box.left + box.width / 2);
    const dy = e.clientY - (box.top + box.height / 2);
    if (Math.hypot(dx, dy) < 4) return;
    const deg = Math.round((Math.atan2(dx, dy) * 180) / Math.PI / 15) * 15;
    onChange(deg === -180 ? 180 : deg);
  }
  return (
    <svg class={`dial${azimuth === null ? ' dial-auto' : ''}`} viewBox="0 0 100 100" aria-hidden="true" onPointerDown={pick} onPointerMove={pick}>
      <circle cx="50" cy="50" r="36" class="dial-ring" />
      <rect x="44" y="42" width="12" height="16" rx="3" class="dial-product" />
      <path d="M44 92 h12 l-2 -6 h-8 z" class="dial-camera" />
      <line x1="50" y1="50" x2={x} y2={y} class="dial-ray" />
      <circle cx={x} cy={y} r="7" class="dial-sun" />
    </svg>
  );
}

interface SliderProps {
  id: keyof SceneSettings;
  label: string;
  value: number | null;
  min: number;
  max: number;
  step: number;
  initial: number;
  shown: (v: number) => string;
  /** the prompt's own figure when it does not sit exactly on a slider step */
  autoText?: string;
  onChange: (v: number | null) => void;
}

function Slider({ id, label, value, min, max, step, initial, shown, autoText, onChange }: SliderProps) {
  const v = value ?? initial;
  const auto = `${autoText ?? shown(v)} · from prompt`;
  return (
    <div class={`control${value === null ? ' control-auto' : ''}`}>
      <label class="control-head" for={`scene-${id}`}>
        <span class="label">{label}</span>
        <span class="control-value">{value === null ? auto : shown(v)}</span>
      </label>
      <div class="control-row">
        <input
          id={`scene-${id}`}
          type="range"
          min={min}
          max={max}
          step={step}
          value={v}
          aria-valuetext={value === null ? auto : shown(v)}
          onInput={(e) => onChange(Number(e.currentTarget.value))}
        />
        <ResetButton label={label} hidden={value === null} onClick={() => onChange(null)} />
      </div>
    </div>
  );
}

function ResetButton({ label, hidden, onClick }: { label: string; hidden: boolean; onClick: () => void }) {
  // Kept in the layout when hidden so the slider does not jump when it appears.
  return (
    <button type="button" class={`icon-btn reset${hidden ? ' is-hidden' : ''}`} onClick={onClick} aria-label={`Reset ${label} to the prompt`} tabIndex={hidden ? -1 : 0} aria-hidden={hidden ? 'true' : undefined}>
      ↺
    </button>
  );
}

const pct = (v: number) => `${Math.round(v * 100)}%`;

/** Fine controls that write `input.scene`; anything left alone comes from the prompt. */
export function SceneControls({ value, plan, onChange }: Props) {
  const set = <K extends keyof SceneSettings>(k: K, v: SceneSettings[K]) => onChange({ ...value, [k]: v });
  const touched = Object.values(value).filter((v) => v !== null).length;
  const az = value.azimuth;
  const plannedAz = Math.round((plan?.light.azimuth ?? -45) / 15) * 15;
  const shownAz = az ?? plannedAz;
  const azText = `${title(directionName(shownAz))} (${shownAz}°)`;
  const planned = {
    hardness: plan?.light.hardness ?? 0.5,
    warmth: kelvinToWarmth(plan?.light.temperature ?? 5500),
    shadow: plan ? (plan.shadow.cast ? plan.shadow.opacity : 0) : 0.6,
    size: plan?.framing.size ?? 0.6,
  };
  const plannedBackdrop = plan ? (plan.backdrop.kind === 'environment' ? plan.backdrop.environment : plan.backdrop.kind) : null;
  const select = (k: 'material' | 'backdrop', e: { currentTarget: HTMLSelectElement }) => set(k, e.currentTarget.value || null);

  return (
    <details class="panel scene-controls">
      <summary>
        <h2>Fine controls</h2>
        <span class="muted small">{touched ? `${touched} set` : 'optional'}</span>
      </summary>
      <div class="scene-body">
        <div class="control control-dial">
          <LightDial azimuth={az} planned={plannedAz} onChange={(a) => set('azimuth', a)} />
          <div class="control-grow">
            <label class="control-head" for="scene-azimuth">
              <span class="label">Light direction</span>
              <span class="control-value">{az === null ? `${azText} · from prompt` : azText}</span>
            </label>
            <div class="control-row">
              <input
                id="scene-azimuth"
                type="range"
                min={-180}
                max={180}
                step={15}
                value={shownAz}
                aria-valuetext={`from the ${directionName(shownAz)}, ${shownAz} degrees${az === null ? ', from the prompt' : ''}`}
                onInput={(e) => set('azimuth', Number(e.currentTarget.value))}
              />
              <ResetButton label="light direction" hidden={az === null} onClick={() => set('azimuth', null)} />
            </div>
            <p class="muted small">Seen from above; the camera is at the bottom.</p>
          </div>
        </div>
        <Slider id="hardness" label="Light hardness" value={value.hardness} min={0} max={1} step={0.05} initial={planned.hardness} shown={(v) => (v < 0.35 ? `soft ${pct(v)}` : v > 0.65 ? `hard ${pct(v)}` : pct(v))} onChange={(v) => set('hardness', v)} />
        <Slider id="warmth" label="Warmth" value={value.warmth} min={-1} max={1} step={0.1} initial={planned.warmth} shown={(v) => `${warmthToKelvin(v)} K`} autoText={plan ? `${plan.light.temperature} K` : undefined} onChange={(v) => set('warmth', v)} />
        <Slider id="shadow" label="Shadow strength" value={value.shadow} min={0} max={1} step={0.05} initial={planned.shadow} shown={(v) => (v === 0 ? 'no shadow' : pct(v))} onChange={(v) => set('shadow', v)} />
        <Slider id="size" label="Product size" value={value.size} min={0.1} max={0.95} step={0.05} initial={planned.size} shown={(v) => `${pct(v)} of frame height`} onChange={(v) => set('size', v)} />
        <div class="row-2">
          <label class="field">
            <span class="label">Surface</span>
            <select value={value.material ?? ''} onChange={(e) => select('material', e)}>
              <option value="">{plan ? `Prompt: ${title(plan.surface.material)}` : 'From prompt'}</option>
              {SURFACE_MATERIALS.map((m) => (
                <option key={m} value={m}>
                  {m === 'none' ? 'None (floating)' : title(m)}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span class="label">Backdrop</span>
            <select value={value.backdrop ?? ''} onChange={(e) => select('backdrop', e)}>
              <option value="">{plannedBackdrop ? `Prompt: ${title(plannedBackdrop)}` : 'From prompt'}</option>
              <optgroup label="Studio">
                {BACKDROP_KINDS.filter((k) => k !== 'environment').map((k) => (
                  <option key={k} value={k}>
                    {title(k)}
                  </option>
                ))}
              </optgroup>
              <optgroup label="Blurred place">
                {ENVIRONMENTS.filter((e) => e !== 'none').map((e) => (
                  <option key={e} value={`environment:${e}`}>
                    {title(e)}
                  </option>
                ))}
              </optgroup>
            </select>
          </label>
        </div>
        {touched > 0 && (
          <button type="button" class="btn btn-quiet btn-small reset-all" onClick={() => onChange(EMPTY_SCENE)}>
            Reset all to the prompt
          </button>
        )}
      </div>
    </details>
  );
}
