import { useRef, useState } from 'preact/hooks';
import type { ReferenceRole } from '../api.js';
import type { Reference } from '../state.js';

const ROLES: readonly (ReferenceRole | 'auto')[] = ['auto', 'product', 'scene', 'style'];
const ROLE_TEXT: Record<ReferenceRole | 'auto', string> = {
  auto: 'Auto — the prompt decides',
  product: 'Product — cut out and placed',
  scene: 'Scene — a photo to place into',
  style: 'Style — palette and light to borrow',
};

interface Props {
  refs: readonly Reference[];
  max: number;
  withRoles: boolean;
  onFiles: (files: File[]) => void;
  onUrl: (url: string) => void;
  onRemove: (id: string) => void;
  onRole: (id: string, role: Reference['role']) => void;
}

/** Product images: drop, pick, paste (handled page-wide) or link; with a role each on the Pro model. */
export function References({ refs, max, withRoles, onFiles, onUrl, onRemove, onRole }: Props) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const [url, setUrl] = useState('');
  const [urlError, setUrlError] = useState<string | null>(null);
  // Links the browser cannot show (another site's hotlink rules, or not an image) still go to the server.
  const [broken, setBroken] = useState<ReadonlySet<string>>(new Set());
  const full = refs.length >= max;

  function drop(e: DragEvent) {
    e.preventDefault();
    setOver(false);
    const files = [...(e.dataTransfer?.files ?? [])].filter((f) => f.type.startsWith('image/'));
    if (files.length) onFiles(files);
  }

  function addUrl(e: Event) {
    e.preventDefault();
    const v = url.trim();
    if (!/^https?:\/\/\S+$/i.test(v)) {
      setUrlError('Enter an http(s) link to an image.');
      return;
    }
    setUrlError(null);
    setUrl('');
    onUrl(v);
  }

  return (
    <section class="panel" aria-labelledby="refs-title">
      <div class="panel-head">
        <h2 id="refs-title">Product image</h2>
        <span class="muted small">
          {refs.length}/{max}
        </span>
      </div>
      {refs.length > 0 && (
        <ul class="refs" aria-label="Reference images">
          {refs.map((r, i) => (
            <li class={`ref ref-${r.status}`} key={r.id}>
              {broken.has(r.id) ? (
                <span class="ref-thumb-missing" role="img" aria-label={`Reference ${i + 1}: no preview`}>
                  link
                </span>
              ) : (
                <img src={r.preview} alt={`Reference ${i + 1}: ${r.name}`} onError={() => setBroken((b) => new Set(b).add(r.id))} />
              )}
              <div class="ref-body">
                <span class="ref-name" title={r.name}>
                  {i + 1}. {r.name}
                </span>
                {r.status === 'uploading' && <span class="small muted">Uploading…</span>}
                {r.status === 'error' && <span class="small error-text">{r.error}</span>}
                {withRoles && r.status !== 'error' && (
                  <label class="ref-role">
                    <span class="sr-only">Role of reference {i + 1}</span>
                    <select value={r.role} onChange={(e) => onRole(r.id, e.currentTarget.value as Reference['role'])}>
                      {ROLES.map((role) => (
                        <option value={role} key={role}>
                          {ROLE_TEXT[role]}
                        </option>
                      ))}
                    </select>
                  </label>
                )}
              </div>
              <button type="button" class="icon-btn" onClick={() => onRemove(r.id)} aria-label={`Remove reference ${i + 1}`}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {!full && (
        <div
          class={`dropzone${over ? ' dropzone-over' : ''}${refs.length ? ' dropzone-compact' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={drop}
        >
          <p>
            <strong>Drop {refs.length ? 'another image' : 'a packshot'} here</strong>
            <span class="muted"> or paste it (Ctrl+V)</span>
          </p>
          <button type="button" class="btn" onClick={() => input.current?.click()}>
            Choose file…
          </button>
          <input
            ref={input}
            type="file"
            accept="image/png,image/jpeg,image/webp,image/avif,image/tiff"
            multiple={max > 1}
            class="sr-only"
            tabIndex={-1}
            aria-label="Choose image files"
            onChange={(e) => {
              const files = [...(e.currentTarget.files ?? [])];
              e.currentTarget.value = '';
              if (files.length) onFiles(files);
            }}
          />
        </div>
      )}
      {!full && (
        <form class="url-row" onSubmit={addUrl}>
          <label class="field field-grow">
            <span class="sr-only">Image URL</span>
            <input
              type="url"
              placeholder="…or an image URL"
              value={url}
              onInput={(e) => setUrl(e.currentTarget.value)}
              aria-invalid={urlError ? 'true' : undefined}
            />
          </label>
          <button type="submit" class="btn">
            Add
          </button>
        </form>
      )}
      {urlError && (
        <p class="error small" role="alert">
          {urlError}
        </p>
      )}
      {withRoles && (
        <p class="muted small">
          Roles: on Auto the prompt decides (“place the product from image 1 on the table in image 2”); the first image is the
          product unless said otherwise.
        </p>
      )}
    </section>
  );
}
