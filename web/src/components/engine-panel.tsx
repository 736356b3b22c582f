import { useEffect, useState } from 'preact/hooks';
import type { EngineName, LockModeName } from '../../../src/contract/models.js';
import { LOCK_MODES } from '../../../src/contract/models.js';
import type { ServedRoutes } from '../../../src/contract/served-models.js';
import type { ApiClient } from '../api.js';
import {
  ENGINE_HINTS,
  ENGINE_LABELS,
  LOCK_LABELS,
  UNKNOWN_ROUTES,
  fitEngineChoice,
  isGenerative,
  pickEngine,
  pickableEngines,
  pickedEngine,
  showsRoutePicker,
  type EngineChoice,
} from '../engine-choice.js';

/**
 * The routes the server accepts (`GET /v1/models`), asked once per view. Until it answers (or when
 * it cannot say) only the server's default route is offered, which is what a request without a
 * route gets anyway.
 */
export function useServedRoutes(api: ApiClient): ServedRoutes {
  const [served, setServed] = useState<ServedRoutes>(UNKNOWN_ROUTES);
  useEffect(() => {
    let live = true;
    api
      .routes()
      .then((r) => live && setServed(r))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [api]);
  return served;
}

interface Props {
  served: ServedRoutes;
  choice: EngineChoice;
  onChange: (choice: EngineChoice) => void;
  /** names the form controls apart when two panels are on the page (the studio and the batch tab) */
  idPrefix: string;
  disabled?: boolean;
}

/**
 * The engine picker (only when the server configured more than one engine; the server's default is
 * selected at first) and, for a generative engine, what the product lock does with its frame.
 */
export function EnginePanel({ served, choice, onChange, idPrefix, disabled }: Props) {
  const fitted = fitEngineChoice(choice, served);
  const picker = showsRoutePicker(served);
  const generative = isGenerative(fitted.route, served);
  if (!picker && !generative) return null;
  const picked = pickedEngine(fitted, served);
  const lockHelp = `${idPrefix}-lock-help`;

  return (
    <section class="panel engine-panel" aria-labelledby={`${idPrefix}-engine-title`}>
      <div class="panel-head">
        <h2 id={`${idPrefix}-engine-title`}>Engine</h2>
        <span class="muted small">{ENGINE_HINTS[picked as EngineName] ?? ''}</span>
      </div>
      {picker && (
        <fieldset class="segmented" disabled={disabled}>
          <legend class="label">Render with</legend>
          {pickableEngines(served).map((engine) => (
            <label key={engine} class="seg">
              <input
                type="radio"
                name={`${idPrefix}-route`}
                value={engine}
                checked={picked === engine}
                onChange={() => onChange(pickEngine(fitted, engine, served))}
              />
              <span>
                {ENGINE_LABELS[engine as EngineName] ?? engine}
                {engine === served.defaultEngine && <span class="seg-sub">default</span>}
              </span>
            </label>
          ))}
        </fieldset>
      )}
      {generative && (
        <>
          <label class="field">
            <span class="label">Product lock</span>
            <select
              name={`${idPrefix}-lock`}
              value={fitted.lock}
              disabled={disabled}
              aria-describedby={lockHelp}
              onChange={(e) => onChange({ ...fitted, lock: e.currentTarget.value as LockModeName })}
            >
              {LOCK_MODES.map((m) => (
                <option key={m} value={m}>
                  {LOCK_LABELS[m].label}
                </option>
              ))}
            </select>
          </label>
          <p id={lockHelp} class="muted small">
            {LOCK_LABELS[fitted.lock].hint}.
          </p>
        </>
      )}
    </section>
  );
}
