import { PRESETS } from '../presets.js';
import { planSummary, type PromptReading } from '../planner.js';

interface Props {
  prompt: string;
  reading: PromptReading;
  onPrompt: (prompt: string) => void;
}

/** The prompt, preset looks to start from, and what the planner made of the words, live. */
export function PromptPanel({ prompt, reading, onPrompt }: Props) {
  return (
    <section class="panel" aria-labelledby="prompt-title">
      <div class="panel-head">
        <h2 id="prompt-title">Scene</h2>
      </div>
      <label class="field">
        <span class="label">Prompt</span>
        <textarea
          name="prompt"
          rows={4}
          maxLength={20000}
          placeholder="e.g. on a dark slate surface, dramatic side light, a wisp of steam"
          value={prompt}
          onInput={(e) => onPrompt(e.currentTarget.value)}
          aria-describedby="reading"
        />
      </label>
      <div class="presets" role="group" aria-label="Preset looks">
        {PRESETS.map((p) => (
          <button
            type="button"
            key={p.label}
            class={`chip chip-preset${prompt === p.prompt ? ' chip-on' : ''}`}
            aria-pressed={prompt === p.prompt}
            onClick={() => onPrompt(p.prompt)}
            title={p.prompt}
          >
            {p.label}
          </button>
        ))}
      </div>
      <div id="reading" class="reading" aria-live="polite">
        {!prompt.trim() ? (
          <p class="muted small">As you type, the chips show which words the studio understood and which it ignored.</p>
        ) : (
          <>
            <div class="reading-row">
              <span class="reading-label">Understood</span>
              {reading.understood.length ? (
                <ul class="chips" aria-label="Understood">
                  {reading.understood.map((c, i) => (
                    <li class={`chip ${c.field === 'noted' ? 'chip-noted' : 'chip-ok'}`} key={i}>
                      <span class="chip-field">{c.field}</span> {c.text}
                    </li>
                  ))}
                </ul>
              ) : (
                <span class="muted small reading-none">nothing yet</span>
              )}
            </div>
            {reading.ignored.length > 0 && (
              <div class="reading-row">
                <span class="reading-label">Ignored</span>
                <ul class="chips" aria-label="Ignored words">
                  {reading.ignored.map((w) => (
                    <li class="chip chip-ignored" key={w}>
                      {w}
                    </li>
                  ))}
                </ul>
              </div>
            )}
          </>
        )}
        {reading.plan && prompt.trim() && (
          <dl class="summary" aria-label="The scene that will be rendered">
            {planSummary(reading.plan, reading.libraryScene).map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))}
          </dl>
        )}
      </div>
    </section>
  );
}
