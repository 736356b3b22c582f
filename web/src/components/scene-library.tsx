import { useEffect, useMemo, useState } from 'preact/hooks';
import type { LibrarySceneInfo } from '../../../src/contract/scenes.js';
import { matchSceneTag } from '../../../src/plan/scene-tags.js';
import type { ApiClient } from '../api.js';
import { promptWithScene } from '../scene-prompt.js';

/**
 * The operator's scene library (`GET /v1/scenes`), asked once per view; empty when the server has
 * none or cannot say.
 */
export function useSceneLibrary(api: Pick<ApiClient, 'scenes'>): LibrarySceneInfo[] {
  const [scenes, setScenes] = useState<LibrarySceneInfo[]>([]);
  useEffect(() => {
    let live = true;
    api
      .scenes()
      .then((s) => live && setScenes(s))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [api]);
  return scenes;
}

interface Props {
  /** the server's scene library (useSceneLibrary) */
  scenes: LibrarySceneInfo[];
  prompt: string;
  onPrompt: (prompt: string) => void;
}

/**
 * "Your scenes": the server's scene library as thumbnails with their tags (only when it has one).
 * A prompt naming a tag renders into that photo; clicking a scene puts its tag in the prompt, and the
 * scene the prompt names is marked.
 */
export function SceneLibraryPanel({ scenes, prompt, onPrompt }: Props) {
  const named = useMemo(() => matchSceneTag(prompt, scenes), [prompt, scenes]);
  if (scenes.length === 0) return null;
  const current = named && scenes.find((s) => s.id === named.id);
  return (
    <section class="panel" aria-labelledby="scene-library-title">
      <div class="panel-head">
        <h2 id="scene-library-title">Your scenes</h2>
      </div>
      <p class="muted small" id="scene-library-help">
        Photos of your own sets. A prompt that names a tag places the product into that photo; click one to add its tag.
      </p>
      <ul class="scene-library" aria-label="Your scenes" aria-describedby="scene-library-help">
        {scenes.map((s) => {
          const on = named?.id === s.id;
          return (
            <li key={s.id}>
              <button
                type="button"
                class={`scene-card${on ? ' scene-card-on' : ''}`}
                aria-pressed={on}
                title={`Tags: ${s.tags.join(', ')}`}
                onClick={() => onPrompt(promptWithScene(prompt, s, scenes))}
              >
                <img src={s.thumbnail_url} alt="" width={s.width >= s.height ? 120 : Math.round((120 * s.width) / s.height)} loading="lazy" />
                <span class="scene-card-title">{s.title}</span>
                <span class="scene-card-tags">{s.tags.join(' · ')}</span>
              </button>
            </li>
          );
        })}
      </ul>
      <p class="small" aria-live="polite">
        {current ? (
          <>
            Renders into <strong>{current.title}</strong> (named by “{named.text}”).
          </>
        ) : (
          <span class="muted">The prompt names none of these scenes.</span>
        )}
      </p>
    </section>
  );
}
